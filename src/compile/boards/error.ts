// The one error of board derivation: the device tree or SDK cannot host a virtual machine, or
// does not describe a board. `fact` is the board-file fact that is missing (gic.virtualCpuInterface).
export class BoardDeriveError extends Error {
  constructor(readonly fact: string, message: string) {
    super(message);
    this.name = 'BoardDeriveError';
  }
}
