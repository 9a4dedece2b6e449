/** An error the operator can act on: what failed, and what to do next. */
export class LabError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'LabError';
  }
}
