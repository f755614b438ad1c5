package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"sort"
	"time"
)

// The HTML report is one self-contained page: inline CSS and SVG computed
// here, no script, font or stylesheet from anywhere else, so it opens from a
// CI artifact or an e-mail attachment as is.

const (
	chartW, chartH = 760.0, 240.0
	padL, padR     = 56.0, 16.0
	padT, padB     = 12.0, 36.0
)

type statusSeries struct {
	Code  string
	Color string
	Count int
	Share string
}

type rect struct {
	X, Y, W, H float64
	Color      string
	Title      string
}

type tick struct {
	Pos    float64
	Label  string
	Anchor string // SVG text-anchor: the last label ends at the plot edge
}

type marker struct {
	X     float64
	Label string
	Color string
}

type reportView struct {
	R         *Result
	Generated string
	Duration  string
	Statuses  []statusSeries
	TimeBars  []rect
	TimeX     []tick
	TimeY     []tick
	LatBars   []rect
	LatX      []tick
	LatY      []tick
	Markers   []marker
	W, H      float64
	PlotL     float64
	PlotR     float64
	PlotT     float64
	PlotB     float64
	Retried   bool
}

func statusColor(code int) string {
	switch {
	case code == 0:
		return "#6b7280" // transport error
	case code == 429:
		return "#f59e0b"
	case code >= 200 && code < 300:
		return "#10b981"
	case code >= 300 && code < 400:
		return "#3b82f6"
	case code >= 400 && code < 500:
		return "#8b5cf6"
	default:
		return "#ef4444"
	}
}

func statusLabel(code int) string {
	if code == 0 {
		return "error"
	}
	return fmt.Sprint(code)
}

// WriteHTMLReport writes the result as a standalone HTML page: summary,
// status codes over time (stacked bars, every send including retries) and
// the latency distribution (histogram on a logarithmic axis with p50, p90,
// p99 marked).
func WriteHTMLReport(w io.Writer, r *Result) error {
	v := reportView{
		R: r, Generated: time.Now().UTC().Format(time.RFC3339), Duration: r.Duration.Round(time.Millisecond).String(),
		W: chartW, H: chartH, PlotL: padL, PlotR: chartW - padR, PlotT: padT, PlotB: chartH - padB,
		Retried: r.Retries.Max > 0,
	}
	// Codes seen in any send, in numeric order.
	sendCounts := map[int]int{}
	for _, s := range r.Samples {
		sendCounts[s.Status]++
	}
	codes := make([]int, 0, len(sendCounts))
	for c := range sendCounts {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		v.Statuses = append(v.Statuses, statusSeries{Code: statusLabel(c), Color: statusColor(c), Count: sendCounts[c],
			Share: fmt.Sprintf("%.1f%%", 100*float64(sendCounts[c])/float64(max(len(r.Samples), 1)))})
	}
	v.timeChart(r, codes)
	v.latencyChart(r)
	return reportTemplate.Execute(w, v)
}

// timeChart: sends per time bucket, stacked by status.
func (v *reportView) timeChart(r *Result, codes []int) {
	var span time.Duration
	for _, s := range r.Samples {
		span = max(span, s.Offset)
	}
	span = max(span, time.Millisecond)
	const buckets = 60
	width := span / buckets
	if span%buckets != 0 || width == 0 {
		width++
	}
	counts := make([]map[int]int, buckets)
	for i := range counts {
		counts[i] = map[int]int{}
	}
	for _, s := range r.Samples {
		b := min(int(s.Offset/width), buckets-1)
		counts[b][s.Status]++
	}
	peak := 1
	for _, m := range counts {
		t := 0
		for _, n := range m {
			t += n
		}
		peak = max(peak, t)
	}
	yMax := niceCeil(float64(peak))
	plotW, plotH := v.PlotR-v.PlotL, v.PlotB-v.PlotT
	bw := plotW / buckets
	for i, m := range counts {
		y := v.PlotB
		for _, c := range codes {
			n := m[c]
			if n == 0 {
				continue
			}
			h := float64(n) / yMax * plotH
			y -= h
			from := time.Duration(i) * width
			v.TimeBars = append(v.TimeBars, rect{X: v.PlotL + float64(i)*bw + 0.5, Y: y, W: math.Max(bw-1, 0.5), H: h, Color: statusColor(c),
				Title: fmt.Sprintf("%s–%s: %d × %s", fmtDur(from), fmtDur(from+width), n, statusLabel(c))})
		}
	}
	for i := 0; i <= 4; i++ {
		frac := float64(i) / 4
		v.TimeY = append(v.TimeY, tick{Pos: v.PlotB - frac*plotH, Label: fmt.Sprintf("%.0f", frac*yMax)})
		anchor := "middle"
		if i == 4 {
			anchor = "end"
		}
		v.TimeX = append(v.TimeX, tick{Pos: v.PlotL + frac*plotW, Label: fmtDur(time.Duration(frac * float64(width*buckets))), Anchor: anchor})
	}
}

// latencyChart: a histogram over logarithmic latency bins, so a 1 ms mode
// and a 2 s tail are both visible.
func (v *reportView) latencyChart(r *Result) {
	if len(r.Samples) == 0 {
		return
	}
	lo, hi := math.Inf(1), 0.0
	for _, s := range r.Samples {
		ms := math.Max(float64(s.Latency)/1e6, 0.001)
		lo, hi = math.Min(lo, ms), math.Max(hi, ms)
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi*1.0001)))
	if hi <= lo {
		hi = lo * 10
	}
	const bins = 50
	l0, l1 := math.Log10(lo), math.Log10(hi)
	counts := make([]int, bins)
	for _, s := range r.Samples {
		ms := math.Max(float64(s.Latency)/1e6, 0.001)
		b := int((math.Log10(ms) - l0) / (l1 - l0) * bins)
		counts[min(max(b, 0), bins-1)]++
	}
	peak := slices.Max(counts)
	yMax := niceCeil(float64(max(peak, 1)))
	plotW, plotH := v.PlotR-v.PlotL, v.PlotB-v.PlotT
	bw := plotW / bins
	x := func(ms float64) float64 {
		return v.PlotL + (math.Log10(math.Max(ms, lo))-l0)/(l1-l0)*plotW
	}
	for i, n := range counts {
		if n == 0 {
			continue
		}
		a, b := math.Pow(10, l0+(l1-l0)*float64(i)/bins), math.Pow(10, l0+(l1-l0)*float64(i+1)/bins)
		h := float64(n) / yMax * plotH
		v.LatBars = append(v.LatBars, rect{X: v.PlotL + float64(i)*bw + 0.5, Y: v.PlotB - h, W: math.Max(bw-1, 0.5), H: h, Color: "#6366f1",
			Title: fmt.Sprintf("%s–%s ms: %d", fmtMS(a), fmtMS(b), n)})
	}
	for d := l0; d <= l1+1e-9; d++ {
		ms := math.Pow(10, d)
		v.LatX = append(v.LatX, tick{Pos: x(ms), Label: fmtMS(ms) + " ms", Anchor: "middle"})
	}
	if n := len(v.LatX); n > 0 {
		v.LatX[n-1].Anchor = "end"
	}
	for i := 0; i <= 4; i++ {
		frac := float64(i) / 4
		v.LatY = append(v.LatY, tick{Pos: v.PlotB - frac*plotH, Label: fmt.Sprintf("%.0f", frac*yMax)})
	}
	v.Markers = []marker{
		{x(r.Latency.P50), "p50", "#047857"},
		{x(r.Latency.P90), "p90", "#b45309"},
		{x(r.Latency.P99), "p99", "#b91c1c"},
	}
	// Keep the labels from overprinting when percentiles are close.
	sort.Slice(v.Markers, func(i, j int) bool { return v.Markers[i].X < v.Markers[j].X })
}

// niceCeil rounds up to 1, 2 or 5 × 10^k so axis labels are round numbers.
func niceCeil(x float64) float64 {
	if x <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func fmtMS(ms float64) string {
	if ms < 1 {
		return fmt.Sprintf("%g", math.Round(ms*1000)/1000)
	}
	return fmt.Sprintf("%g", math.Round(ms))
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f1":   func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"f2":   func(f float64) string { return fmt.Sprintf("%.2f", f) },
	"add":  func(a, b float64) float64 { return a + b },
	"half": func(a, b float64) float64 { return (a + b) / 2 },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Load test report — {{.R.URL}}</title>
<style>
  :root { --fg:#111827; --muted:#6b7280; --line:#e5e7eb; --card:#ffffff; --bg:#f3f4f6; }
  * { box-sizing: border-box; }
  body { margin:0; background:var(--bg); color:var(--fg); font:15px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
  main { max-width: 840px; margin: 0 auto; padding: 28px 20px 40px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 16px; margin: 0 0 12px; }
  .sub { color: var(--muted); font-size: 13px; word-break: break-all; }
  .cards { display:grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 20px 0; }
  .card, section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
  .card { padding: 12px 14px; }
  .card .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .v { font-size: 22px; font-weight: 600; margin-top: 2px; }
  .card .u { font-size: 13px; color: var(--muted); font-weight: 400; }
  section { padding: 16px 18px; margin-bottom: 16px; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); }
  th { color: var(--muted); font-weight: 500; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  th.n, td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .sw { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:6px; vertical-align: baseline; }
  .legend { display:flex; gap:14px; flex-wrap: wrap; font-size: 13px; color: var(--muted); margin-top: 6px; }
  svg { width: 100%; height: auto; display: block; }
  svg text { font: 11px -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: #6b7280; }
  .grid { stroke: #eef0f3; }
  .axis { stroke: #d1d5db; }
  footer { color: var(--muted); font-size: 12px; text-align: center; margin-top: 20px; }
</style>
</head>
<body>
<main>
  <h1>Load test report</h1>
  <div class="sub">GET {{.R.URL}} · {{.R.Model}} model{{if eq .R.Model "open"}} at {{f1 .R.TargetRate}} req/s{{else}}, concurrency {{.R.Concurrency}}{{end}} · {{.Generated}}</div>

  <div class="cards">
    <div class="card"><div class="k">Requests</div><div class="v">{{.R.Requests}}</div></div>
    <div class="card"><div class="k">Achieved rate</div><div class="v">{{f1 .R.Rate}} <span class="u">req/s</span></div></div>
    <div class="card"><div class="k">p99 latency</div><div class="v">{{f2 .R.Latency.P99}} <span class="u">ms</span></div></div>
    <div class="card"><div class="k">429 seen / predicted</div><div class="v">{{.R.Throttle.Observed}} <span class="u">/ {{.R.Throttle.Predicted}}</span></div></div>
  </div>

  <section>
    <h2>Status codes over time</h2>
    <svg viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="HTTP status codes per time interval">
      {{range .TimeY}}<line class="grid" x1="{{$.PlotL}}" x2="{{$.PlotR}}" y1="{{.Pos}}" y2="{{.Pos}}"/><text x="{{add $.PlotL -6}}" y="{{add .Pos 4}}" text-anchor="end">{{.Label}}</text>{{end}}
      {{range .TimeBars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}"><title>{{.Title}}</title></rect>{{end}}
      <line class="axis" x1="{{.PlotL}}" x2="{{.PlotR}}" y1="{{.PlotB}}" y2="{{.PlotB}}"/>
      {{range .TimeX}}<text x="{{.Pos}}" y="{{add $.PlotB 16}}" text-anchor="{{.Anchor}}">{{.Label}}</text>{{end}}
      <text x="{{half .PlotL .PlotR}}" y="{{add .PlotB 32}}" text-anchor="middle">time since start (sends per interval)</text>
    </svg>
    <div class="legend">{{range .Statuses}}<span><span class="sw" style="background:{{.Color}}"></span>{{.Code}}</span>{{end}}</div>
  </section>

  <section>
    <h2>Latency distribution</h2>
    <svg viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="Latency histogram, logarithmic scale">
      {{range .LatY}}<line class="grid" x1="{{$.PlotL}}" x2="{{$.PlotR}}" y1="{{.Pos}}" y2="{{.Pos}}"/><text x="{{add $.PlotL -6}}" y="{{add .Pos 4}}" text-anchor="end">{{.Label}}</text>{{end}}
      {{range .LatBars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}" rx="1"><title>{{.Title}}</title></rect>{{end}}
      {{range $i, $m := .Markers}}<line x1="{{$m.X}}" x2="{{$m.X}}" y1="{{$.PlotT}}" y2="{{$.PlotB}}" stroke="{{$m.Color}}" stroke-width="1.5" stroke-dasharray="4 3"/><text x="{{add $m.X 4}}" y="{{if eq $i 0}}{{add $.PlotT 10}}{{else if eq $i 1}}{{add $.PlotT 24}}{{else}}{{add $.PlotT 38}}{{end}}" style="fill:{{$m.Color}};font-weight:600">{{$m.Label}}</text>{{end}}
      <line class="axis" x1="{{.PlotL}}" x2="{{.PlotR}}" y1="{{.PlotB}}" y2="{{.PlotB}}"/>
      {{range .LatX}}<text x="{{.Pos}}" y="{{add $.PlotB 16}}" text-anchor="{{.Anchor}}">{{.Label}}</text>{{end}}
      <text x="{{half .PlotL .PlotR}}" y="{{add .PlotB 32}}" text-anchor="middle">response time (log scale), requests per bin</text>
    </svg>
  </section>

  <section>
    <h2>Summary</h2>
    <table>
      <tr><th>Status</th><th class="n">Sends</th><th class="n">Share</th></tr>
      {{range .Statuses}}<tr><td><span class="sw" style="background:{{.Color}}"></span>{{.Code}}</td><td class="n">{{.Count}}</td><td class="n">{{.Share}}</td></tr>{{end}}
    </table>
    <table style="margin-top:14px">
      <tr><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>mean</th><th>duration</th></tr>
      <tr><td>{{f2 .R.Latency.P50}} ms</td><td>{{f2 .R.Latency.P90}} ms</td><td>{{f2 .R.Latency.P99}} ms</td><td>{{f2 .R.Latency.Max}} ms</td><td>{{f2 .R.Latency.Mean}} ms</td><td>{{.Duration}}</td></tr>
    </table>
    <table style="margin-top:14px">
      <tr><th>Token bucket</th><th class="n">Sends</th><th class="n">429 predicted</th><th class="n">429 observed</th><th class="n">Quota exceeded</th></tr>
      <tr><td>{{f1 .R.Throttle.RateLimit}} req/s, burst {{.R.Throttle.BurstLimit}}</td><td class="n">{{.R.Throttle.Sends}}</td><td class="n">{{.R.Throttle.Predicted}}</td><td class="n">{{.R.Throttle.Observed}}</td><td class="n">{{.R.Throttle.QuotaExceeded}}</td></tr>
    </table>
    {{if .Retried}}<table style="margin-top:14px">
      <tr><th>Retries (max {{.R.Retries.Max}})</th><th class="n">Retried</th><th class="n">Retry sends</th><th class="n">Succeeded</th><th class="n">Gave up</th></tr>
      <tr><td>exponential backoff, full jitter</td><td class="n">{{.R.Retries.Retried}}</td><td class="n">{{.R.Retries.Attempts}}</td><td class="n">{{.R.Retries.Succeeded}}</td><td class="n">{{.R.Retries.GaveUp}}</td></tr>
    </table>{{end}}
  </section>
  <footer>Generated by challengectl loadtest · self-contained page, no external resources</footer>
</main>
</body>
</html>
`))
