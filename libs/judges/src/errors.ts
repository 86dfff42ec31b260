/** The request cannot be judged as given: the message names the problem (shown to people as is). */
export class JudgeInputError extends Error {
  override readonly name = 'JudgeInputError';
}
