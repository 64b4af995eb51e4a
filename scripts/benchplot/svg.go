package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// chart is one line chart: logarithmic x (base xBase), linear or
// logarithmic (base 10) y.
type chart struct {
	title, xLabel, yLabel string
	xBase                 float64
	yLog                  bool
	series                []series
}

// series is one line of a chart.
type series struct {
	name, label, color string
	points             []point
}

// Layout of the SVG: two charts side by side.
const (
	chartWidth  = 470.0
	chartHeight = 340.0
	marginLeft  = 70.0
	marginRight = 20.0
	marginTop   = 40.0
	marginBot   = 90.0 // the x label and the legend
)

// scalingCharts returns the two charts of c: events/s by writers, and
// the median get latency by aggregate length.
func scalingCharts(c curves) []chart {
	return []chart{
		{
			title: "Save, 1 event per save (PostgreSQL)", xLabel: "concurrent writers", yLabel: "events/s",
			xBase: 2,
			series: []series{
				{seriesSave, "library: Save", "#1f6fb4", c.throughput[seriesSave]},
				{seriesUnsafe, "raw INSERT, no lock (unsafe)", "#999999", c.throughput[seriesUnsafe]},
				{seriesLocked, "raw INSERT under LOCK TABLE", "#d9822b", c.throughput[seriesLocked]},
			},
		},
		{
			title: "Get latency, median (PostgreSQL)", xLabel: "aggregate length (events)", yLabel: "ms",
			xBase: 10, yLog: true,
			series: []series{
				{seriesReplay, "replay, no snapshot", "#1f6fb4", c.latency[seriesReplay]},
				{seriesSnapshot, "snapshot at the last version", "#2ca02c", c.latency[seriesSnapshot]},
			},
		},
	}
}

// writeSVG writes the charts side by side as one SVG document. Each
// point is a circle with its series and values in data-series, data-x
// and data-y (y in the chart's unit: events/s, or ms for latency).
func writeSVG(w io.Writer, charts []chart, caption string) error {
	var b strings.Builder
	width := chartWidth * float64(len(charts))
	height := chartHeight + 24
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%.0f" height="%.0f" fill="white"/>`+"\n", width, height)
	for i, c := range charts {
		fmt.Fprintf(&b, `<g transform="translate(%.0f,0)">`+"\n", chartWidth*float64(i))
		drawChart(&b, c)
		b.WriteString("</g>\n")
	}
	if caption != "" {
		fmt.Fprintf(&b, `<text x="10" y="%.0f" fill="#555" font-size="11">%s</text>`+"\n", height-8, escape(caption))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// drawChart draws c in a chartWidth × chartHeight box at the origin.
func drawChart(b *strings.Builder, c chart) {
	left, right := marginLeft, chartWidth-marginRight
	top, bottom := marginTop, chartHeight-marginBot
	var xs, ys []float64
	for _, s := range c.series {
		for _, p := range s.points {
			xs = append(xs, p.x)
			ys = append(ys, yValue(c, p))
		}
	}
	fmt.Fprintf(b, `<text x="%.0f" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", left, escape(c.title))
	if len(xs) == 0 {
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f">no data</text>`+"\n", left, (top+bottom)/2)
		return
	}

	// x: a logarithmic scale over the decades (or powers of two) that
	// hold the data, a tick at each.
	xTicks := logTicks(c.xBase, minOf(xs), maxOf(xs))
	lx := func(v float64) float64 { return math.Log(v) / math.Log(c.xBase) }
	x0, x1 := lx(xTicks[0]), lx(xTicks[len(xTicks)-1])
	if x1 == x0 {
		x1 = x0 + 1
	}
	sx := func(v float64) float64 { return left + (lx(v)-x0)/(x1-x0)*(right-left) }

	var yTicks []float64
	var sy func(float64) float64
	if c.yLog {
		yTicks = logTicks(10, minOf(ys), maxOf(ys))
		y0, y1 := math.Log10(yTicks[0]), math.Log10(yTicks[len(yTicks)-1])
		if y1 == y0 {
			y1 = y0 + 1
		}
		sy = func(v float64) float64 { return bottom - (math.Log10(v)-y0)/(y1-y0)*(bottom-top) }
	} else {
		yTicks = linearTicks(maxOf(ys))
		yMax := yTicks[len(yTicks)-1]
		sy = func(v float64) float64 { return bottom - v/yMax*(bottom-top) }
	}

	// Grid, ticks and labels.
	for _, t := range xTicks {
		x := sx(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", x, top, x, bottom)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, bottom+16, label(t))
	}
	for _, t := range yTicks {
		y := sy(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", left, y, right, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, label(t))
	}
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#333"/>`+"\n", left, top, right-left, bottom-top)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", (left+right)/2, bottom+34, escape(c.xLabel))
	fmt.Fprintf(b, `<text transform="translate(16,%.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", (top+bottom)/2, escape(c.yLabel))

	// The lines, their points and the legend.
	legendY := bottom + 52
	legendX := left
	for _, s := range c.series {
		if len(s.points) == 0 {
			continue
		}
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(p.x), sy(yValue(c, p))))
		}
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(pts, " "), s.color)
		for _, p := range s.points {
			y := yValue(c, p)
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s" data-series="%s" data-x="%g" data-y="%.4g"><title>%s: %s at %g</title></circle>`+"\n",
				sx(p.x), sy(y), s.color, s.name, p.x, y, escape(s.label), label(y)+" "+c.yLabel, p.x)
		}
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n", legendX, legendY, legendX+18, legendY, s.color)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", legendX+22, legendY+4, escape(s.label))
		legendY += 16
	}
}

// yValue is p's value on c's y axis: latency medians are in µs, charted
// in ms.
func yValue(c chart, p point) float64 {
	if c.yLog {
		return p.y / 1000
	}
	return p.y
}

// logTicks returns the powers of base from the largest at or below lo to
// the smallest at or above hi.
func logTicks(base, lo, hi float64) []float64 {
	if lo <= 0 {
		lo = 1
	}
	hi = math.Max(hi, lo)
	first := math.Floor(math.Log(lo)/math.Log(base) + 1e-9)
	last := math.Ceil(math.Log(hi)/math.Log(base) - 1e-9)
	var ticks []float64
	for e := first; e <= last; e++ {
		ticks = append(ticks, math.Pow(base, e))
	}
	if len(ticks) == 1 {
		ticks = append(ticks, ticks[0]*base)
	}
	return ticks
}

// linearTicks returns 0 and about five round steps up to at least hi.
func linearTicks(hi float64) []float64 {
	if hi <= 0 {
		return []float64{0, 1}
	}
	raw := hi / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	ticks := []float64{0}
	for t := step; ; t += step {
		ticks = append(ticks, t)
		if t >= hi {
			break
		}
	}
	return ticks
}

// label formats a tick or a value: from 100 up (and whole numbers)
// rounded, thousands with a comma; others with three significant digits.
func label(v float64) string {
	if v >= 100 || (v >= 1 && v == math.Trunc(v)) {
		s := fmt.Sprintf("%.0f", v)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	}
	return fmt.Sprintf("%.3g", v)
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func minOf(vs []float64) float64 {
	m := math.Inf(1)
	for _, v := range vs {
		m = math.Min(m, v)
	}
	return m
}

func maxOf(vs []float64) float64 {
	m := math.Inf(-1)
	for _, v := range vs {
		m = math.Max(m, v)
	}
	return m
}
