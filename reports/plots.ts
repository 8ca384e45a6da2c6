// Charts for report pages: Vega-Lite specs compiled by vega-lite and rendered to SVG by vega,
// in Node, with no browser and no network. Each chart goes into the page as an <img> of a data
// URI, so nothing inside an SVG (axis titles come from run data) can script the page.
import * as vega from 'vega';
import * as vl from 'vega-lite';

export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

export interface LineChart {
  title: string;
  x: string;
  y: string;
  series: Series[];
  /** log-scaled y axis (learning rates, losses over decades) */
  logY?: boolean;
}

const width = 420;
const height = 220;

async function svgOf(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;
}

/** A line chart (one line per series) as an SVG data URI. */
export async function lineChart(chart: LineChart): Promise<string> {
  const values = chart.series.flatMap((s) => s.points.map((p) => ({ series: s.name, x: p.x, y: p.y })));
  const spec: vl.TopLevelSpec = {
    title: chart.title,
    width,
    height,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: values.length <= 60 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: chart.x, axis: { tickMinStep: 1 } },
      y: { field: 'y', type: 'quantitative', title: chart.y, scale: chart.logY ? { type: 'log' } : { zero: false } },
      ...(chart.series.length > 1 ? { color: { field: 'series', type: 'nominal', title: null } } : {}),
    },
  };
  return svgDataUri(await svgOf(spec));
}

export interface Heatmap {
  title: string;
  x: string;
  y: string;
  value: string;
  cells: Array<{ x: string; y: string; value: number | null }>;
}

/** A heatmap of `value` over two categorical axes, each cell labelled with its number, as an SVG data URI. */
export async function heatmap(chart: Heatmap): Promise<string> {
  const values = chart.cells.map((c) => ({ ...c, label: c.value === null ? '—' : Number(c.value.toPrecision(4)).toString() }));
  const spec: vl.TopLevelSpec = {
    title: chart.title,
    background: 'white',
    data: { values },
    encoding: {
      x: { field: 'x', type: 'ordinal', title: chart.x, sort: null },
      y: { field: 'y', type: 'ordinal', title: chart.y, sort: null },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'value', type: 'quantitative', title: chart.value } } },
      { mark: { type: 'text', fontSize: 12 }, encoding: { text: { field: 'label', type: 'nominal' } } },
    ],
    width: Math.min(width, 90 * new Set(values.map((v) => v.x)).size),
    height: Math.min(height, 45 * new Set(values.map((v) => v.y)).size),
  };
  return svgDataUri(await svgOf(spec));
}
