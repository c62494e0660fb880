import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { JobRun } from "../gen/sluice/v1/job_pb";
import { formatTime, num, recordsPerSecond } from "../lib/format";

interface Point {
  label: string;
  when: string;
  durationS: number;
  recordsPerS: number;
}

/** Duration (bars, left axis) and records/s (line, right axis) over the last runs, oldest first. */
export function RunChart({ runs }: { runs: JobRun[] }) {
  const points: Point[] = runs
    .filter((r) => num(r.durationMs) > 0)
    .slice(0, 30)
    .reverse()
    .map((r, i) => {
      const records = r.counts ? num(r.counts.recordsLoaded) || num(r.counts.recordsExtracted) : 0;
      return {
        label: `#${i + 1}`,
        when: formatTime(r.startedAt),
        durationS: Math.round(num(r.durationMs) / 100) / 10,
        recordsPerS: Math.round(recordsPerSecond(records, r.durationMs) * 10) / 10,
      };
    });
  if (points.length === 0) return <p className="muted">No finished runs to chart yet.</p>;
  return (
    <figure className="chart" data-testid="run-chart" aria-label="Duration and records per second of the last runs">
      <div className="chart-box">
        <ResponsiveContainer width="100%" height="100%" minWidth={200} minHeight={200}>
          <ComposedChart data={points} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#d7dde5" />
            <XAxis dataKey="label" tick={{ fontSize: 12 }} />
            <YAxis yAxisId="d" tick={{ fontSize: 12 }} label={{ value: "s", angle: 0, position: "insideTopLeft", fontSize: 12 }} />
            <YAxis yAxisId="r" orientation="right" tick={{ fontSize: 12 }} />
            <Tooltip labelFormatter={(_, payload) => (payload[0]?.payload as Point | undefined)?.when ?? ""} />
            <Legend />
            <Bar yAxisId="d" dataKey="durationS" name="duration (s)" fill="#8fb3e0" isAnimationActive={false} />
            <Line yAxisId="r" dataKey="recordsPerS" name="records/s" stroke="#1f7a4d" strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="muted small">Last {points.length} finished runs, oldest first.</figcaption>
    </figure>
  );
}
