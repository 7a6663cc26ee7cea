package loadtest

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// series is one line of the chart: a scenario (and queue size, when the
// sweep had several; and loops, when other than one) across pool sizes.
// The lines of one scenario and queue share a colour and marker, and
// their loops tell them apart by dashes.
type series struct {
	label  string
	points []Point // by pool size
	colour int     // index of the scenario and queue
	dashes int     // index of the loops value among the sweep's
}

func chartSeries(points []Point) []series {
	queues := map[int]bool{}
	for _, p := range points {
		queues[p.Queue] = true
	}
	loops := pointLoops(points)
	showLoops := namesLoops(loops)
	var out []series
	index := map[string]int{}
	colours := map[string]int{}
	for _, p := range points {
		base := p.Scenario
		if len(queues) > 1 {
			base += " q=" + strconv.Itoa(p.Queue)
		}
		label := base
		if showLoops {
			label += ", " + loopsName(p.Loops)
		}
		i, ok := index[label]
		if !ok {
			c, ok := colours[base]
			if !ok {
				c = len(colours)
				colours[base] = c
			}
			i = len(out)
			index[label] = i
			out = append(out, series{label: label, colour: c, dashes: slices.Index(loops, p.Loops)})
		}
		out[i].points = append(out[i].points, p)
	}
	for _, s := range out {
		sort.Slice(s.points, func(a, b int) bool { return s.points[a].Workers < s.points[b].Workers })
	}
	return out
}

// errXYs is a line's points with the min-max spread as error bars.
type errXYs struct {
	plotter.XYs
	lo, hi []float64
}

func (e errXYs) YError(i int) (float64, float64) { return e.lo[i], e.hi[i] }

// WriteChart draws req/s (left) and p99 latency (right) against pool size,
// one line per scenario, with the min-max spread of the repetitions as
// error bars, and writes it as SVG. Pool sizes are evenly spaced (they
// usually double) and each axis turns logarithmic when its values span
// more than a factor of ten, so scenarios of very different speeds share it.
func WriteChart(w io.Writer, r *Report) error {
	all := chartSeries(r.Points)
	if len(all) == 0 {
		return fmt.Errorf("chart: no points")
	}
	var pools []int
	seen := map[int]bool{}
	for _, p := range r.Points {
		if !seen[p.Workers] {
			seen[p.Workers] = true
			pools = append(pools, p.Workers)
		}
	}
	sort.Ints(pools)
	xOf := map[int]float64{}
	var ticks []plot.Tick
	for i, n := range pools {
		xOf[n] = float64(i)
		label := strconv.Itoa(n)
		if n == 0 {
			label = "0 (inline)"
		}
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: label})
	}

	sub := fmt.Sprintf("median of %d", r.Settings.Repeats)
	if r.Settings.Repeats > 1 {
		sub += ", bars: min-max"
	}
	// Each panel shows absolute values when every line fits in a factor of
	// ten. Past that (1 GiB downloads next to /ping) a shared axis would
	// flatten every line, so the panel shows each line relative to its own
	// smallest pool size (normally 0, inline), and the legend gives the
	// absolute figures there: the best pool size is the highest point of
	// a line, whatever its scenario's speed.
	var rpsAll, p99All []float64
	for _, s := range all {
		for _, p := range s.points {
			rpsAll = append(rpsAll, p.RPSMin, p.RPSMax)
			p99All = append(p99All, p.P99MinMs, p.P99MaxMs)
		}
	}
	relRPS, relP99 := span(rpsAll) > 10, span(p99All) > 10
	base := pools[0]
	baseName := strconv.Itoa(base)
	if base == 0 {
		baseName = "0 (inline)"
	}
	rpsTitle, p99Title := "Throughput (req/s)", "p99 latency (ms)"
	rpsLabel, p99Label := "req/s", "ms"
	if relRPS {
		rpsTitle = "Throughput relative to pool size " + baseName
		rpsLabel = "req/s / req/s at pool size " + strconv.Itoa(base)
	}
	if relP99 {
		p99Title = "p99 latency relative to pool size " + baseName
		p99Label = "p99 / p99 at pool size " + strconv.Itoa(base)
	}
	rps := newPanel(rpsTitle, rpsLabel, ticks, len(pools))
	p99 := newPanel(p99Title, p99Label, ticks, len(pools))
	legend := plot.NewLegend()
	legend.TextStyle.Font.Size = vg.Points(10)

	var rpsVals, p99Vals []float64
	for _, s := range all {
		first := s.points[0]
		rpsDiv, p99Div := 1.0, 1.0
		if relRPS && first.RPS > 0 {
			rpsDiv = first.RPS
		}
		if relP99 && first.P99Ms > 0 {
			p99Div = first.P99Ms
		}
		var a, b errXYs
		for _, p := range s.points {
			x := xOf[p.Workers]
			if p.RPS > 0 {
				a.XYs = append(a.XYs, plotter.XY{X: x, Y: p.RPS / rpsDiv})
				a.lo = append(a.lo, (p.RPS-p.RPSMin)/rpsDiv)
				a.hi = append(a.hi, (p.RPSMax-p.RPS)/rpsDiv)
				rpsVals = append(rpsVals, p.RPSMin/rpsDiv, p.RPSMax/rpsDiv)
			}
			if p.P99Ms > 0 {
				b.XYs = append(b.XYs, plotter.XY{X: x, Y: p.P99Ms / p99Div})
				b.lo = append(b.lo, (p.P99Ms-p.P99MinMs)/p99Div)
				b.hi = append(b.hi, (p.P99MaxMs-p.P99Ms)/p99Div)
				p99Vals = append(p99Vals, p.P99MinMs/p99Div, p.P99MaxMs/p99Div)
			}
		}
		var thumb plot.Thumbnailer
		for _, d := range []struct {
			plt *plot.Plot
			xys errXYs
		}{{rps, a}, {p99, b}} {
			if len(d.xys.XYs) == 0 {
				continue
			}
			line, pts, err := plotter.NewLinePoints(d.xys.XYs)
			if err != nil {
				return err
			}
			line.Color = lineColor(s.colour)
			line.Width = vg.Points(1.5)
			if s.dashes > 0 { // the first loops value keeps today's solid line
				line.Dashes = plotutil.Dashes(s.dashes)
			}
			pts.Color = lineColor(s.colour)
			pts.Shape = plotutil.Shape(s.colour)
			d.plt.Add(line, pts)
			if r.Settings.Repeats > 1 {
				bars, err := plotter.NewYErrorBars(d.xys)
				if err != nil {
					return err
				}
				bars.Color = lineColor(s.colour)
				bars.CapWidth = vg.Points(4)
				d.plt.Add(bars)
			}
			thumb = lineThumb{line, pts}
		}
		if thumb != nil {
			label := s.label
			if relRPS || relP99 {
				label += fmt.Sprintf(" (%s req/s, %s ms)", shortNumber(sig3(first.RPS)), fmtMs(first.P99Ms))
			}
			legend.Add(label, thumb)
		}
	}
	if relRPS {
		scaleRelative(rps, rpsVals, len(pools))
	} else {
		scaleY(rps, rpsVals)
	}
	if relP99 {
		scaleRelative(p99, p99Vals, len(pools))
	} else {
		scaleY(p99, p99Vals)
	}

	legendWidth := 1.7 * vg.Inch
	if relRPS || relP99 {
		legendWidth = 3.1 * vg.Inch
	}
	loops := pointLoops(r.Points)
	showLoops := namesLoops(loops)
	if showLoops { // ", 2 loops" on every label
		legendWidth += 0.6 * vg.Inch
	}
	width, height := 9.3*vg.Inch+legendWidth, 4.6*vg.Inch
	canvas := vgsvg.NewWith(vgsvg.UseWH(width, height), vgsvg.EmbedFonts(false))
	dc := draw.New(canvas)
	title := "http_server pool sizes"
	if showLoops {
		title += " with " + joinInts(loops) + " event loops"
	}
	title += fmt.Sprintf(": %d CPUs", r.Machine.CPUs)
	if r.Machine.ServerCPUs != "" {
		title += ", server on CPU " + r.Machine.ServerCPUs
	}
	if r.Machine.ClientCPUs != "" {
		title += ", generator on CPU " + r.Machine.ClientCPUs
	}
	title += fmt.Sprintf("; %d connections, %s per point, %s", r.Settings.Connections, r.Settings.Duration, sub)
	if r.Settings.DiskReadMBps > 0 {
		title += fmt.Sprintf("; disk reads %d MB/s", r.Settings.DiskReadMBps)
	}
	titleStyle := draw.TextStyle{Color: color.Black, Font: legend.TextStyle.Font, XAlign: draw.XCenter, YAlign: draw.YTop, Handler: legend.TextStyle.Handler}
	titleStyle.Font.Size = vg.Points(12)
	dc.FillText(titleStyle, vg.Point{X: (width - legendWidth) / 2, Y: height - vg.Points(6)}, title)

	body := draw.Crop(dc, 0, -legendWidth, 0, -vg.Points(24))
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(18), PadY: vg.Points(4), PadLeft: vg.Points(4), PadBottom: vg.Points(4)}
	cells := plot.Align([][]*plot.Plot{{rps, p99}}, tiles, body)
	rps.Draw(cells[0][0])
	p99.Draw(cells[0][1])

	side := draw.Crop(dc, width-legendWidth, 0, 0, -vg.Points(40))
	legend.Top = true
	legend.Left = true
	legend.XOffs = vg.Points(6)
	if relRPS || relP99 {
		head := legend.TextStyle
		head.XAlign, head.YAlign = draw.XLeft, draw.YTop
		dc.FillText(head, vg.Point{X: width - legendWidth + vg.Points(6), Y: height - vg.Points(26)},
			"req/s and p99 at pool size "+baseName+":")
		side = draw.Crop(side, 0, 0, 0, -vg.Points(16))
	}
	legend.Draw(side)
	_, err := canvas.WriteTo(w)
	return err
}

// joinInts writes 1 and 2, or 1, 2 and 4.
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// WriteChartFile writes the chart to path.
func WriteChartFile(path string, r *Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteChart(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type lineThumb struct {
	line *plotter.Line
	pts  *plotter.Scatter
}

func (t lineThumb) Thumbnail(c *draw.Canvas) {
	t.line.Thumbnail(c)
	t.pts.Thumbnail(c)
}

func newPanel(title, ylabel string, ticks []plot.Tick, n int) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text = "pool size (--workers)"
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.3, float64(n-1)+0.3
	p.Add(plotter.NewGrid())
	return p
}

// palette is Tableau's ten colours: distinct enough for eight scenarios
// (plotutil's default palette repeats after seven).
var palette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
	{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff},
	{0x9c, 0x75, 0x5f, 0xff}, {0xba, 0xb0, 0xac, 0xff},
}

func lineColor(i int) color.Color { return palette[i%len(palette)] }

// sig3 rounds to three significant digits.
func sig3(v float64) float64 {
	if v <= 0 {
		return v
	}
	m := math.Pow10(int(math.Floor(math.Log10(v))) - 2)
	return math.Round(v/m) * m
}

// span is the ratio of the largest positive value to the smallest.
func span(vals []float64) float64 {
	lo, hi := math.Inf(1), 0.0
	for _, v := range vals {
		if v > 0 {
			lo = math.Min(lo, v)
			hi = math.Max(hi, v)
		}
	}
	if hi == 0 {
		return 1
	}
	return hi / lo
}

// scaleRelative fits a ratio axis tightly around the values and 1, with a
// dashed line at 1 (the reference pool size).
func scaleRelative(p *plot.Plot, vals []float64, n int) {
	lo, hi := 1.0, 1.0
	for _, v := range vals {
		lo = math.Min(lo, v)
		hi = math.Max(hi, v)
	}
	pad := (hi - lo) * 0.08
	p.Y.Min, p.Y.Max = math.Max(0, lo-pad), hi+pad
	ref, err := plotter.NewLine(plotter.XYs{{X: -0.3, Y: 1}, {X: float64(n-1) + 0.3, Y: 1}})
	if err == nil {
		ref.Color = color.Gray{Y: 90}
		ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(ref)
	}
}

// scaleY makes the axis start at zero when the values span less than a
// factor of ten, and logarithmic otherwise.
func scaleY(p *plot.Plot, vals []float64) {
	lo, hi := math.Inf(1), 0.0
	for _, v := range vals {
		if v > 0 {
			lo = math.Min(lo, v)
			hi = math.Max(hi, v)
		}
	}
	if hi == 0 {
		return
	}
	if hi/lo <= 10 {
		p.Y.Min = 0
		p.Y.Max = hi * 1.08
		p.Y.Tick.Marker = shortTicks{plot.DefaultTicks{}}
		return
	}
	p.Y.Scale = plot.LogScale{}
	p.Y.Min = math.Pow10(int(math.Floor(math.Log10(lo))))
	p.Y.Max = math.Pow10(int(math.Ceil(math.Log10(hi))))
	p.Y.Tick.Marker = shortTicks{logTicks{}}
}

// logTicks labels 1, 2 and 5 of each decade.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	for d := math.Floor(math.Log10(min)); math.Pow10(int(d)) <= max; d++ {
		base := math.Pow10(int(d))
		for i := 1; i < 10; i++ {
			v := base * float64(i)
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if i == 1 || i == 2 || i == 5 {
				t.Label = "x" // relabelled by shortTicks
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// shortTicks writes labels as 250, 2.5k, 120k, 1.5M.
type shortTicks struct{ plot.Ticker }

func (s shortTicks) Ticks(min, max float64) []plot.Tick {
	ticks := s.Ticker.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = shortNumber(ticks[i].Value)
		}
	}
	return ticks
}

func shortNumber(v float64) string {
	trim := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	switch a := math.Abs(v); {
	case a >= 1e6:
		return trim(math.Round(v/1e4)/1e2) + "M"
	case a >= 1e3:
		return trim(math.Round(v/10)/1e2) + "k"
	case a >= 1:
		return trim(math.Round(v*100) / 100)
	default:
		return trim(math.Round(v*1e4) / 1e4)
	}
}
