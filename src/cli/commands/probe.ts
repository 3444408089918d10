// Placeholder until the owning area lands; see the issue that covers `seat probe`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "probe",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat probe' is not built yet", ExitCode.failed);
  },
};
export default command;
