// node:test reporter that counts leaf tests (not suites) and writes {pass, fail, skip, todo} as JSON.
export default async function* summary(source) {
  const counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    if (event.data.details?.type === "suite") continue;
    if (event.data.skip) counts.skip++;
    else if (event.data.todo) counts.todo++;
    else if (event.type === "test:pass") counts.pass++;
    else counts.fail++;
  }
  yield JSON.stringify(counts);
}
