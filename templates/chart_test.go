package templates

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNiceTicks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		max  int64
		want []int64
	}{
		{0, []int64{0}},
		{-5, []int64{0}},
		{1, []int64{0, 1}},
		{3, []int64{0, 1, 2, 3}},
		{7, []int64{0, 2, 4, 6, 8}},
		{100, []int64{0, 25, 50, 75, 100}},
		{101, []int64{0, 50, 100, 150}},
		{330000, []int64{0, 100000, 200000, 300000, 400000}},
		{1_234_567_890_123, []int64{0, 500_000_000_000, 1_000_000_000_000, 1_500_000_000_000}},
		{math.MaxInt64 / 3, []int64{0, 1_000_000_000_000_000_000, 2_000_000_000_000_000_000, 3_000_000_000_000_000_000, 4_000_000_000_000_000_000}},
	} {
		require.Equal(t, tc.want, niceTicks(tc.max, 4), "max %d", tc.max)
	}
	// A round top past int64 falls back to quarters of the maximum, ending on it.
	q := int64(math.MaxInt64 / 4)
	require.Equal(t, []int64{0, q, 2 * q, 3 * q, math.MaxInt64}, niceTicks(math.MaxInt64, 4))

	for maxv := int64(1); maxv < 5000; maxv += 7 {
		ticks := niceTicks(maxv, 4)
		top := ticks[len(ticks)-1]
		require.GreaterOrEqual(t, top, maxv, "the axis reaches the largest bar")
		require.LessOrEqual(t, len(ticks), 6, "a handful of gridlines for %d", maxv)
		for i := 1; i < len(ticks); i++ {
			require.Equal(t, ticks[1], ticks[i]-ticks[i-1], "even steps for %d", maxv)
		}
	}
}

// svgDoc is what the tests read back from a chart.
type svgDoc struct {
	Role      string `xml:"role,attr"`
	AriaLabel string `xml:"aria-label,attr"`
	Direction string `xml:"direction,attr"`
	ViewBox   string `xml:"viewBox,attr"`
	Title     string `xml:"title"`
	Rects     []struct {
		X      float64 `xml:"x,attr"`
		Y      float64 `xml:"y,attr"`
		Width  float64 `xml:"width,attr"`
		Height float64 `xml:"height,attr"`
		Title  string  `xml:"title"`
	} `xml:"rect"`
	Texts []struct {
		X      float64 `xml:"x,attr"`
		Anchor string  `xml:"text-anchor,attr"`
		Text   string  `xml:",chardata"`
	} `xml:"text"`
	Lines []struct {
		Y1 float64 `xml:"y1,attr"`
	} `xml:"line"`
}

// parseSVG checks that the chart is well-formed XML, as inline SVG must be to draw,
// and reads it back.
func parseSVG(t *testing.T, svg string) svgDoc {
	t.Helper()
	var doc svgDoc
	dec := xml.NewDecoder(strings.NewReader(svg))
	dec.Strict = true
	require.NoError(t, dec.Decode(&doc), svg)
	_, err := dec.Token()
	require.ErrorIs(t, err, io.EOF, "one element: %s", svg)
	require.NotContains(t, svg, "NaN")
	require.NotContains(t, svg, "Inf")
	return doc
}

func days(values ...int64) []Bar {
	bars := make([]Bar, len(values))
	for i, v := range values {
		day := "2026-11-" + strconv.Itoa(10+i)
		bars[i] = Bar{Label: day, Short: day[5:], Value: v, Text: strconv.FormatInt(v, 10) + " ₫"}
	}
	return bars
}

func TestBarChartColumns(t *testing.T) {
	t.Parallel()
	c := &BarChart{Bars: days(100, 0, 330, 50)}
	doc := parseSVG(t, string(c.SVG("Paid per day", "ltr", "en")))
	require.Equal(t, "img", doc.Role)
	require.Equal(t, "Paid per day", doc.AriaLabel)
	require.Equal(t, "Paid per day", doc.Title)
	require.Equal(t, "ltr", doc.Direction)
	require.Len(t, doc.Rects, 4, "one bar per day, a day without payments too")
	require.Equal(t, "2026-11-12: 330 ₫", doc.Rects[2].Title)
	require.Zero(t, doc.Rects[1].Height)

	// The axis is 0, 100, 200, 300, 400 and the bars stand on it in proportion.
	var axis []string
	for _, tx := range doc.Texts {
		if tx.Anchor == "end" {
			axis = append(axis, tx.Text)
		}
	}
	require.Equal(t, []string{"0", "100", "200", "300", "400"}, axis)
	base := doc.Rects[0].Y + doc.Rects[0].Height
	for _, r := range doc.Rects {
		require.InDelta(t, base, r.Y+r.Height, 0.11, "every bar stands on the baseline")
		require.Greater(t, r.X, 0.0)
		require.LessOrEqual(t, r.X+r.Width, float64(chartWidth))
	}
	require.InDelta(t, doc.Rects[0].Height*3.3, doc.Rects[2].Height, 0.5)
	require.InDelta(t, doc.Rects[0].Height/2, doc.Rects[3].Height, 0.2)
	for i := 1; i < len(doc.Rects); i++ {
		require.Greater(t, doc.Rects[i].X, doc.Rects[i-1].X, "oldest first, left to right")
	}
	require.Contains(t, axisTexts(doc), "11-10", "the short label goes under the bar")
}

func axisTexts(doc svgDoc) []string {
	var out []string
	for _, tx := range doc.Texts {
		if tx.Anchor == "middle" {
			out = append(out, tx.Text)
		}
	}
	return out
}

func TestBarChartEmptyAndZero(t *testing.T) {
	t.Parallel()
	require.Empty(t, (&BarChart{}).SVG("x", "ltr", "en"), "no bars, no drawing")
	require.Empty(t, (*BarChart)(nil).SVG("x", "ltr", "en"))

	doc := parseSVG(t, string((&BarChart{Bars: days(0, 0, 0)}).SVG("Nothing paid", "ltr", "en")))
	require.Len(t, doc.Rects, 3)
	for _, r := range doc.Rects {
		require.Zero(t, r.Height)
	}
	var axis []string
	for _, tx := range doc.Texts {
		if tx.Anchor == "end" {
			axis = append(axis, tx.Text)
		}
	}
	require.Equal(t, []string{"0"}, axis, "one gridline at zero, no made-up scale")

	doc = parseSVG(t, string((&BarChart{Horizontal: true, Bars: []Bar{{Label: "sandbox", Text: "0"}}}).SVG("By method", "ltr", "en")))
	require.Len(t, doc.Rects, 1)
	require.Zero(t, doc.Rects[0].Width)
}

func TestBarChartOneDay(t *testing.T) {
	t.Parallel()
	doc := parseSVG(t, string((&BarChart{Bars: days(5)}).SVG("One day", "ltr", "en")))
	require.Len(t, doc.Rects, 1)
	r := doc.Rects[0]
	require.Greater(t, r.Height, 0.0)
	require.Less(t, r.Width, float64(chartWidth), "a single bar does not fill the chart")
	require.Equal(t, []string{"11-10"}, axisTexts(doc))
}

func TestBarChartHugeAmounts(t *testing.T) {
	t.Parallel()
	bars := []Bar{
		{Label: "a", Value: math.MaxInt64, Text: "max"},
		{Label: "b", Value: 1, Text: "one"},
		{Label: "c", Value: math.MaxInt64 / 2},
	}
	tick := func(v int64) string { return "₫" + strconv.FormatInt(v, 10) }
	doc := parseSVG(t, string((&BarChart{Bars: bars, Tick: tick}).SVG("Huge", "ltr", "en")))
	require.Len(t, doc.Rects, 3)
	require.Equal(t, 1.0, doc.Rects[1].Height, "a tiny amount is still visible")
	require.InDelta(t, doc.Rects[0].Height/2, doc.Rects[2].Height, 0.2)
	require.Contains(t, string((&BarChart{Bars: bars, Tick: tick}).SVG("Huge", "ltr", "en")), "₫9223372036854775807", "the axis ends on the largest amount")

	doc = parseSVG(t, string((&BarChart{Horizontal: true, Bars: bars}).SVG("Huge rows", "ltr", "en")))
	require.Len(t, doc.Rects, 3)
	for _, r := range doc.Rects {
		require.LessOrEqual(t, r.X+r.Width, float64(chartWidth))
	}
}

// TestBarChartRTL: a right-to-left chart is the left-to-right one mirrored: bars and
// labels swap sides, time runs right to left, and text anchors stay logical under
// direction="rtl".
func TestBarChartRTL(t *testing.T) {
	t.Parallel()
	for _, c := range []*BarChart{
		{Bars: days(100, 0, 330)},
		{Horizontal: true, Bars: []Bar{{Label: "کارت رد شد", Value: 3, Text: "۳"}, {Label: "expired", Value: 1, Text: "۱"}}},
	} {
		ltr := parseSVG(t, string(c.SVG("t", "ltr", "fa")))
		rtl := parseSVG(t, string(c.SVG("t", "rtl", "fa")))
		require.Equal(t, "rtl", rtl.Direction)
		require.Len(t, rtl.Rects, len(ltr.Rects))
		for i := range ltr.Rects {
			l, r := ltr.Rects[i], rtl.Rects[i]
			require.InDelta(t, float64(chartWidth)-l.X-l.Width, r.X, 0.11, "bar %d mirrored", i)
			require.Equal(t, l.Y, r.Y)
			require.Equal(t, l.Width, r.Width)
		}
		require.Len(t, rtl.Texts, len(ltr.Texts))
		for i := range ltr.Texts {
			require.InDelta(t, float64(chartWidth)-ltr.Texts[i].X, rtl.Texts[i].X, 0.11)
			require.Equal(t, ltr.Texts[i].Anchor, rtl.Texts[i].Anchor)
			require.Equal(t, ltr.Texts[i].Text, rtl.Texts[i].Text)
		}
	}
	// Axis numbers in Persian digits when the page is Persian.
	doc := parseSVG(t, string((&BarChart{Bars: days(100)}).SVG("t", "rtl", "fa")))
	var axis []string
	for _, tx := range doc.Texts {
		if tx.Anchor == "end" {
			axis = append(axis, tx.Text)
		}
	}
	require.Equal(t, []string{"۰", "۲۵", "۵۰", "۷۵", "۱۰۰"}, axis)
}

func TestBarChartRows(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("insufficient funds ", 5)
	c := &BarChart{Horizontal: true, Bars: []Bar{
		{Label: "card_declined", Value: 4, Text: "4"},
		{Label: long, Value: 2, Text: "2"},
	}}
	doc := parseSVG(t, string(c.SVG("Failure reasons", "ltr", "en")))
	require.Len(t, doc.Rects, 2)
	require.InDelta(t, doc.Rects[0].Width/2, doc.Rects[1].Width, 0.11)
	require.Equal(t, long+": 2", doc.Rects[1].Title, "the tooltip has the whole label")
	var cut string
	for _, tx := range doc.Texts {
		if strings.HasPrefix(tx.Text, "insufficient") {
			cut = tx.Text
		}
	}
	require.Equal(t, rowLabelRunes, len([]rune(cut)))
	require.True(t, strings.HasSuffix(cut, "…"))
	require.Contains(t, doc.ViewBox, " "+strconv.Itoa(2*rowHeight+8))
}

func TestBarChartEscapes(t *testing.T) {
	t.Parallel()
	hostile := `</title><script>alert(1)</script>"&'`
	for _, horizontal := range []bool{false, true} {
		c := &BarChart{Horizontal: horizontal, Bars: []Bar{{Label: hostile, Short: hostile, Value: 1, Text: hostile}},
			Tick: func(int64) string { return hostile }}
		svg := string(c.SVG(hostile, "ltr", "en"))
		require.NotContains(t, svg, "<script>")
		doc := parseSVG(t, svg)
		require.Equal(t, hostile, doc.Title)
		require.Equal(t, hostile, doc.AriaLabel)
		require.Equal(t, hostile+": "+hostile, doc.Rects[0].Title)
	}
}

// FuzzBarChart: whatever the labels and values (gateways' failure reasons are free
// text), the chart is one well-formed SVG element whose bars stay inside it.
func FuzzBarChart(f *testing.F) {
	f.Add("2026-11-03", "card <declined>", int64(330000), int64(0), true, true)
	f.Add("", "&amp;", int64(-1), int64(math.MaxInt64), false, false)
	f.Add("\x00\xff", "ไม่มีเงิน", int64(math.MinInt64), int64(7), true, false)
	f.Fuzz(func(t *testing.T, a, b string, va, vb int64, horizontal, rtl bool) {
		dir := "ltr"
		if rtl {
			dir = "rtl"
		}
		c := &BarChart{Horizontal: horizontal, Bars: []Bar{{Label: a, Text: b, Value: va}, {Label: b, Short: a, Text: a, Value: vb}}}
		svg := string(c.SVG(a+b, dir, "th"))
		var doc svgDoc
		dec := xml.NewDecoder(strings.NewReader(svg))
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
		if len(doc.Rects) != 2 {
			t.Fatalf("%d bars", len(doc.Rects))
		}
		for _, r := range doc.Rects {
			if r.X < 0 || r.Width < 0 || r.Height < 0 || r.X+r.Width > chartWidth+0.1 || math.IsNaN(r.Height) {
				t.Fatalf("bar out of the chart: %+v", r)
			}
		}
	})
}

// TestBarChartAxisLabelsDoNotOverlap: a month of days, whose last label is pushed back
// inside the drawing's edge, must not print on top of the one before it (seen in the
// report's screenshot as "11-2111-25").
func TestBarChartAxisLabelsDoNotOverlap(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 7, 8, 13, 20, 29, 30, 31} {
		bars := make([]Bar, n)
		for i := range bars {
			bars[i] = Bar{Label: "day " + strconv.Itoa(i), Short: "11-" + strconv.Itoa(10+i), Value: int64(i + 1)}
		}
		for _, dir := range []string{"ltr", "rtl"} {
			doc := parseSVG(t, string((&BarChart{Bars: bars}).SVG("Paid per day", dir, "en")))
			var xs []float64
			for _, tx := range doc.Texts {
				if tx.Anchor == "middle" {
					xs = append(xs, tx.X)
				}
			}
			require.NotEmpty(t, xs)
			width := textWidth("11-10")
			for i := 1; i < len(xs); i++ {
				require.GreaterOrEqual(t, math.Abs(xs[i]-xs[i-1]), width, "%d days, %s: labels %d and %d overlap", n, dir, i-1, i)
			}
		}
	}
}
