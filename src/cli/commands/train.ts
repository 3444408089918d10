// Placeholder until the owning area lands; see the issue that covers `seat train`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "train",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat train' is not built yet", ExitCode.failed);
  },
};
export default command;
