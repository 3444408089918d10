// Placeholder until the owning area lands; see the issue that covers `seat perturb`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "perturb",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat perturb' is not built yet", ExitCode.failed);
  },
};
export default command;
