package templates

import (
	htmltemplate "html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BarChart is a bar chart the dashboard draws on the server as inline SVG, so that
// reports need no script and no image requests, and print and zoom crisply. A chart is
// a picture for sighted readers: pages put a table of the same figures next to it, and
// the SVG itself is one image with a title for assistive technology.
type BarChart struct {
	Bars []Bar
	// Horizontal draws one row per bar with its label beside it, for categories
	// (gateways, failure reasons); otherwise the bars stand side by side along a time
	// axis, oldest first, under a value axis with gridlines.
	Horizontal bool
	// Tick writes an axis value, such as an amount as money; nil writes the number
	// with the page's digits.
	Tick func(int64) string
}

// Bar is one bar. Label says what it is (a day, a gateway, a reason); Short, when
// set, is what the time axis writes under it instead ("11-03" for "2026-11-03").
// Value is its size (negative counts as zero) and Text the value as people read it,
// shown as the bar's tooltip and, on a horizontal chart, after the bar.
type Bar struct {
	Label, Short, Text string
	Value              int64
}

// The drawing's fixed geometry, in SVG user units. The width is a viewBox width: the
// chart scales to its container, so on a 375 px phone one unit is about two thirds of
// a pixel and the 13-unit text stays readable (pages cap a chart's width, so that it
// does not grow past twice that on a wide screen).
const (
	chartWidth    = 480
	chartFontSize = 13
	// chartCharWidth estimates the width of one character, for laying out labels
	// without font metrics; generous, so that labels are not cut at the edges.
	chartCharWidth = 8
	// chartPad keeps text off the drawing's edges.
	chartPad = 4

	columnsHeight = 240
	columnsTop    = 12
	columnsBottom = 30 // room for the time axis labels
	columnsTicks  = 4
	// columnsLabels is about how many time axis labels fit side by side.
	columnsLabels = 7

	rowHeight = 30
	rowBar    = 18
	// rowLabelRunes is where a category label is cut with an ellipsis; the whole
	// label is in the bar's tooltip and the table.
	rowLabelRunes = 22
)

// SVG draws the chart. title names it for assistive technology (the SVG's <title>
// and aria-label); dir "rtl" mirrors the drawing for right-to-left pages (time runs
// right to left, labels sit on the right); locale writes axis numbers when Tick is
// nil. A chart without bars draws nothing: pages say there is no data instead.
func (c *BarChart) SVG(title, dir, locale string) htmltemplate.HTML {
	if c == nil || len(c.Bars) == 0 {
		return ""
	}
	d := &drawing{rtl: dir == "rtl"}
	tick := c.Tick
	if tick == nil {
		tick = func(n int64) string { return formatInt(n, locale) }
	}
	var height int
	if c.Horizontal {
		height = c.rows(d)
	} else {
		height = c.columns(d, tick)
	}
	var b strings.Builder
	b.Grow(256 + d.b.Len())
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 `)
	b.WriteString(strconv.Itoa(chartWidth))
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(height))
	b.WriteString(`" font-size="`)
	b.WriteString(strconv.Itoa(chartFontSize))
	b.WriteString(`" direction="`)
	if d.rtl {
		b.WriteString("rtl")
	} else {
		b.WriteString("ltr")
	}
	b.WriteString(`" aria-label="`)
	b.WriteString(esc(title))
	b.WriteString(`"><title>`)
	b.WriteString(esc(title))
	b.WriteString(`</title>`)
	b.WriteString(d.b.String())
	b.WriteString(`</svg>`)
	return htmltemplate.HTML(b.String()) // every text in it went through esc
}

// columns draws a time series: bars side by side over a value axis with gridlines at
// round values. It returns the drawing's height.
func (c *BarChart) columns(d *drawing, tick func(int64) string) int {
	ticks := niceTicks(maxValue(c.Bars), columnsTicks)
	top := ticks[len(ticks)-1]
	labels := make([]string, len(ticks))
	axis := 0.0
	for i, t := range ticks {
		labels[i] = tick(t)
		axis = max(axis, textWidth(labels[i]))
	}
	x0, x1 := axis+chartPad+8, float64(chartWidth-chartPad)
	y0, y1 := float64(columnsTop), float64(columnsHeight-columnsBottom)
	for i, t := range ticks {
		y := y1 - scaled(t, top, y1-y0)
		d.line(x0, y, x1, y, "#d0d7de")
		d.text(x0-6, y+4, "end", "#57606a", labels[i])
	}
	n := len(c.Bars)
	slot := (x1 - x0) / float64(n)
	w := max(slot*0.7, 1)
	every := (n + columnsLabels - 1) / columnsLabels
	// labelEnd is where the last label drawn ends: a label kept inside the drawing's
	// edge can be pushed back onto its neighbour, and is then left out.
	labelEnd := math.Inf(-1)
	for i, bar := range c.Bars {
		x := x0 + float64(i)*slot + (slot-w)/2
		h := scaled(bar.Value, top, y1-y0)
		d.bar(x, y1-h, w, h, bar)
		// Every so many labels, always the first; the last too when the step lands
		// short of it and there is room.
		if i%every == 0 || (i == n-1 && (n-1)%every >= every/2+1) {
			label := bar.Short
			if label == "" {
				label = bar.Label
			}
			// Centred under its bar, but never past the drawing's edges.
			half := textWidth(label)/2 + chartPad
			x := min(max(x0+(float64(i)+0.5)*slot, half), chartWidth-half)
			if x-half+chartPad < labelEnd {
				continue
			}
			labelEnd = x + half
			d.text(x, float64(columnsHeight-10), "middle", "#57606a", label)
		}
	}
	d.line(x0, y1, x1, y1, "#57606a")
	return columnsHeight
}

// rows draws categories: one row per bar, the label before it and its value after
// it, the longest bar as wide as there is room. It returns the drawing's height.
func (c *BarChart) rows(d *drawing) int {
	labelW, valueW := 0.0, 0.0
	labels := make([]string, len(c.Bars))
	for i, bar := range c.Bars {
		labels[i] = truncate(bar.Label, rowLabelRunes)
		labelW = max(labelW, textWidth(labels[i]))
		valueW = max(valueW, textWidth(bar.Text))
	}
	labelW = min(labelW, chartWidth*0.4) + chartPad
	valueW = min(valueW, chartWidth*0.3)
	x0 := labelW + 8
	room := max(float64(chartWidth)-x0-valueW-6-chartPad, 1)
	top := maxValue(c.Bars)
	for i, bar := range c.Bars {
		y := float64(i*rowHeight) + 4
		w := scaled(bar.Value, top, room)
		d.text(labelW, y+rowBar/2+4.5, "end", "#1f2328", labels[i])
		d.bar(x0, y, w, rowBar, bar)
		d.text(x0+w+6, y+rowBar/2+4.5, "start", "#1f2328", bar.Text)
	}
	return len(c.Bars)*rowHeight + 8
}

// drawing collects SVG elements, mirroring every x for right-to-left pages. Text
// anchors stay logical (start, end): the SVG's direction attribute makes a
// right-to-left "end" the left edge, so the mirrored layout needs no other change.
type drawing struct {
	rtl bool
	b   strings.Builder
}

// x returns the drawn position of a point at x; mx of a box of width w at x.
func (d *drawing) x(x float64) float64 {
	if d.rtl {
		return chartWidth - x
	}
	return x
}

func (d *drawing) mx(x, w float64) float64 {
	if d.rtl {
		return chartWidth - x - w
	}
	return x
}

func (d *drawing) line(x1, y1, x2, y2 float64, color string) {
	d.b.WriteString(`<line x1="` + num(d.x(x1)) + `" y1="` + num(y1) + `" x2="` + num(d.x(x2)) + `" y2="` + num(y2) +
		`" stroke="` + color + `" stroke-width="1"/>`)
}

func (d *drawing) text(x, y float64, anchor, color, s string) {
	d.b.WriteString(`<text x="` + num(d.x(x)) + `" y="` + num(y) + `" text-anchor="` + anchor + `" fill="` + color + `">` +
		esc(s) + `</text>`)
}

// bar draws one bar with its tooltip ("label: value"). A bar of zero size is still
// drawn, without area, so that its tooltip and the count of bars stay right.
func (d *drawing) bar(x, y, w, h float64, bar Bar) {
	tip := bar.Label
	if bar.Text != "" {
		tip += ": " + bar.Text
	}
	d.b.WriteString(`<rect x="` + num(d.mx(x, w)) + `" y="` + num(y) + `" width="` + num(w) + `" height="` + num(h) +
		`" rx="2" fill="#0b57d0"><title>` + esc(tip) + `</title></rect>`)
}

// niceTicks returns the value axis' ticks for values up to max: 0, then n or so
// steps of a round size (1, 2, 2.5 or 5 times a power of ten, never a fraction) up to
// the first multiple at or above max. Without data it is just 0. When a round top
// would overflow int64, the steps are max's quarters instead, ending at max.
func niceTicks(maxv int64, n int) []int64 {
	if maxv <= 0 {
		return []int64{0}
	}
	raw := float64(maxv) / float64(n)
	mag := int64(1)
	for float64(mag)*10 <= raw && mag <= math.MaxInt64/10 {
		mag *= 10
	}
	var step int64
	for _, m := range [][2]int64{{1, 1}, {2, 1}, {5, 2}, {5, 1}, {10, 1}} {
		if m[1] == 2 && mag < 10 {
			continue // 2.5 of 1 is not a whole number
		}
		base := mag / m[1]
		if base > math.MaxInt64/m[0] {
			break
		}
		if s := base * m[0]; float64(s) >= raw {
			step = s
			break
		}
	}
	k := int64(0)
	if step > 0 {
		k = maxv / step
		if maxv%step != 0 {
			k++
		}
	}
	if step == 0 || k > math.MaxInt64/step {
		ticks := make([]int64, 0, n+1)
		for i := range n {
			ticks = append(ticks, maxv/int64(n)*int64(i))
		}
		return append(ticks, maxv)
	}
	ticks := make([]int64, 0, k+1)
	for i := range k + 1 {
		ticks = append(ticks, i*step)
	}
	return ticks
}

// scaled is v's share of top as a length of size, 0 for nothing; a value too small
// to see still gets one unit, so that no payment disappears from the picture.
func scaled(v, top int64, size float64) float64 {
	if v <= 0 || top <= 0 {
		return 0
	}
	l := float64(v) / float64(top) * size
	return min(max(l, 1), size)
}

func maxValue(bars []Bar) int64 {
	var m int64
	for _, b := range bars {
		m = max(m, b.Value)
	}
	return m
}

func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * chartCharWidth }

// truncate cuts s to n runes, the last an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// num writes a coordinate with at most one decimal.
func num(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// esc escapes text for SVG inside HTML as html/template escapes text, after
// replacing what no markup may hold: invalid UTF-8 and control characters (a label
// is one line, and a failure reason comes from a gateway).
func esc(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return htmltemplate.HTMLEscapeString(s)
}
