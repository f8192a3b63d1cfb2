package templates

import (
	htmltemplate "html/template"
	"math"
	"strconv"
	"strings"
)

// ReportView is the payments report page: totals, rates, failure reasons and
// server-drawn SVG charts, each chart next to a table of its figures.
type ReportView struct {
	// From and To are the range's first and last day, both included, as the date
	// fields show them (2026-11-01); GroupBy is the metadata key totals are also
	// grouped by, "" for none. After a bad request they hold what was typed.
	From, To, GroupBy string
	// Error is the key of what is wrong with the request (the page shows the
	// locale's rep_err_<Error>), "" when the report was built; ErrorField names the
	// field it is about (from, to, group_by), which the form marks invalid.
	Error, ErrorField string
	// Shown says the report was built; without it the page has only the form.
	Shown bool
	// CSVURL downloads the range's payments as a CSV file.
	CSVURL string

	// Payments is how many payments the range holds.
	Payments int64
	// Attempts and PaidAttempts count the attempts started in the range, all and
	// those paid; SuccessRate is their ratio (0 to 1), meaningful when Attempts > 0.
	Attempts, PaidAttempts int64
	SuccessRate            float64
	// MedianToPaid and P90ToPaid are the median and 90th percentile of the time from
	// the link being sent to the payment, in seconds; negative when unknown (no
	// payments).
	MedianToPaid, P90ToPaid int64

	// Unit is how Periods are cut: day, month or year.
	Unit string
	// Periods are the paid amounts per period, one series per currency.
	Periods []ReportSeries
	// ByGateway, ByStatus and ByGroup are totals per gateway, per the orders' payment
	// status and per value of the GroupBy key, each per currency.
	ByGateway, ByStatus, ByGroup []ReportRow
	// GatewayCounts are how many payments each gateway took, all currencies
	// together, for the chart by payment method.
	GatewayCounts []CountRow
	// Reasons are the failed attempts' reasons, most frequent first ("" when the
	// gateway gave none).
	Reasons []CountRow
}

// ReportSeries is one currency's paid amounts per period: its chart and the rows of
// the table that says the same.
type ReportSeries struct {
	Currency string
	Chart    *BarChart
	Rows     []ReportRow
}

// ReportRow is one line of a totals table. Key is what the line is about (a gateway,
// a payment status, a metadata value, a period); Missing marks the line of orders
// without the grouped metadata key. Amount, Held and Refunded are formatted money:
// Amount is what was taken, Held what a gateway holds uncaptured ("" for none).
type ReportRow struct {
	Key      string
	Missing  bool
	Currency string
	Count    int64
	Amount   string
	Held     string
	Refunded string
}

// CountRow is how many of something one label has: payments of a gateway, failed
// attempts of a reason.
type CountRow struct {
	Label string
	Count int64
}

// CountChart draws counts as a horizontal bar chart, with the page's digits; an
// empty label is written as the locale's string emptyKey ("no reason given").
func (d pageData) CountChart(rows []CountRow, emptyKey string) *BarChart {
	if len(rows) == 0 {
		return nil
	}
	c := &BarChart{Horizontal: true, Bars: make([]Bar, len(rows))}
	for i, r := range rows {
		label := r.Label
		if label == "" {
			label = d.T[emptyKey]
		}
		c.Bars[i] = Bar{Label: label, Value: r.Count, Text: formatInt(r.Count, d.Lang)}
	}
	return c
}

// Chart draws a chart for the page: in its direction, with its digits. title names
// it for assistive technology.
func (d pageData) Chart(c *BarChart, title string) htmltemplate.HTML {
	return c.SVG(title, d.Dir, d.Lang)
}

// Percent writes a ratio (0.875) as a percentage the way the page's language does:
// "87.5%", "87,5%", "۸۷٫۵٪", with one decimal only when it is not whole.
func (d pageData) Percent(ratio float64) string {
	if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
		ratio = 0
	}
	tenths := int64(math.Round(ratio * 1000))
	nf := numberFormats[normLocale(d.Lang)]
	s := strconv.FormatInt(tenths/10, 10)
	if f := tenths % 10; f != 0 {
		s += nf.decimal + strconv.FormatInt(max(f, -f), 10)
	}
	sign := "%"
	if nf.persian {
		s, sign = persianDigits(s), "٪"
	}
	return s + sign
}

// DurationText writes a duration in seconds with its two largest units in the page's
// language ("1 d 4 h", "12 min 5 s"), from the locale's rep_dur_* strings, each
// holding one %s for the number. Negative is "—" (unknown).
func (d pageData) DurationText(seconds int64) string {
	if seconds < 0 {
		return "—"
	}
	units := []struct {
		size int64
		key  string
	}{{86400, "rep_dur_days"}, {3600, "rep_dur_hours"}, {60, "rep_dur_minutes"}, {1, "rep_dur_seconds"}}
	var parts []string
	for _, u := range units {
		n := seconds / u.size
		seconds %= u.size
		switch {
		case n > 0:
			parts = append(parts, strings.Replace(d.T[u.key], "%s", formatInt(n, d.Lang), 1))
		case len(parts) > 0:
			// The next unit is zero: "2 h", not "2 h 0 min" or "2 h 5 s".
			return parts[0]
		}
		if len(parts) == 2 {
			break
		}
	}
	if len(parts) == 0 {
		return strings.Replace(d.T["rep_dur_seconds"], "%s", formatInt(0, d.Lang), 1)
	}
	return strings.Join(parts, " ")
}
