// Placeholder until the owning area lands; see the issue that covers `seat models`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "models",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat models' is not built yet", ExitCode.failed);
  },
};
export default command;
