/**
 * Text bound for the Actions log. The runner reads any log line that starts with `::` as a workflow command
 * (`::add-mask::`, `::error::`, and the long-deprecated `::set-env::` on old runners), and @actions/core's info()
 * writes its text as it is: a part folder, model or backend name with a newline in it would start such a line. Every
 * informational line goes through here; warning(), error() and setFailed() escape their own text. Pure.
 */
export function logLine(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const oneLine = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
  // A line the runner would take for a command is indented by one space, which the runner does not read.
  return oneLine.startsWith('::') ? ` ${oneLine}` : oneLine;
}

/**
 * Text of several lines bound for a log the runner reads (the CLI's stdout and stderr, when `tr118` runs in a workflow
 * step): its lines stay as they are, but none starts a workflow command. A line break inside an untrusted name (a part
 * folder, a backend) would otherwise start a line with the name's `::error::…`. Pure.
 */
export function noCommandLines(text: string): string {
  return text.replace(/(^|[\n\r\u2028\u2029])::/g, '$1 ::');
}
