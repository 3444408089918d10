// How results look, in one place: the probe report as JSON, CSV, text and HTML; the SVG charts (PCA,
// training curves) that the HTML report and the probes panel draw; training curves built from the
// trainer's events; the message protocol between the panel host and its webview. Plain strings and
// data, no vscode: the CLI, the demo, the panel host and the webview bundle all import it.
export { reportToJson, reportToCsv, reportToHtml, reportToText, csvField, CSV_COLUMNS } from "./report";
export { pcaSvg, lineChartSvg, escapeXml, type ChartSeries } from "./svg";
export { applyTrainEvent, seriesFromEvents } from "./curves";
