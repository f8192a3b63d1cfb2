package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/auth"
	"github.com/chatpay/chatpay/orders"
	"github.com/chatpay/chatpay/templates"
)

// The dashboard's payments report (issue 4): the figures of GET
// /api/v1/reports/payments for a range of days, drawn as SVG charts on the server
// (no script), each next to a table of the same figures, and the same CSV download as
// the API's behind the session. Anyone who may see orders may see the report: it
// shows nothing an order page does not, and changes nothing.

const (
	reportsPath = dashboardPath + "/reports"
	// reportDays is the default range: the last 30 days, today included.
	reportDays = 30
)

func (s *Server) reportRoutes(r *gin.RouterGroup) {
	r.GET(reportsPath, s.requireUser, s.reportPage)
	r.GET(reportsPath+"/payments.csv", s.requireUser, s.reportPageCSV)
}

// reportQuery is the report page's request: the range as typed (or defaulted) and as
// the service takes it, and what is wrong with it.
type reportQuery struct {
	// From, To and GroupBy are the form's values: dates, both days included.
	From, To, GroupBy string
	// from and to are the range as a half-open interval: from's midnight to the
	// midnight after to, in UTC.
	from, to time.Time
	// errKey and errField say what is wrong (see templates.ReportView.Error).
	errKey, errField string
}

// parseReportQuery reads ?from=&to=&group_by=. Days are dates in UTC (shops have no
// time zone of their own), and both are included, as people mean "from the 1st to the
// 30th". Without from the range starts 29 days before to; without to it ends today.
func (s *Server) parseReportQuery(c *gin.Context) reportQuery {
	q := reportQuery{From: strings.TrimSpace(c.Query("from")), To: strings.TrimSpace(c.Query("to")), GroupBy: strings.TrimSpace(c.Query("group_by"))}
	now := s.svc.Now().UTC()
	to := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if q.To != "" {
		t, err := time.Parse(time.DateOnly, q.To)
		if err != nil {
			q.errKey, q.errField = "date", "to"
			return q
		}
		to = t
	}
	from := to.AddDate(0, 0, 1-reportDays)
	if q.From != "" {
		t, err := time.Parse(time.DateOnly, q.From)
		if err != nil {
			q.errKey, q.errField = "date", "from"
			return q
		}
		from = t
	}
	if to.Before(from) {
		q.errKey, q.errField = "order", "to"
		return q
	}
	q.From, q.To = from.Format(time.DateOnly), to.Format(time.DateOnly)
	q.from, q.to = from, to.AddDate(0, 0, 1)
	return q
}

// csvURL is the dashboard's CSV download of the same range.
func (q reportQuery) csvURL() string {
	v := url.Values{"from": {q.From}, "to": {q.To}}
	if q.GroupBy != "" {
		v.Set("group_by", q.GroupBy)
	}
	return reportsPath + "/payments.csv?" + v.Encode()
}

// buildReport builds the report of the request. When the request is wrong, or the
// range holds too many payments, it returns the view with the error and the status
// to answer, and no report; an internal error it has answered itself (ok false).
func (s *Server) buildReport(c *gin.Context, shop *orders.Shop, q reportQuery) (v *templates.ReportView, r *orders.PaymentsReport, status int, ok bool) {
	v = &templates.ReportView{From: q.From, To: q.To, GroupBy: q.GroupBy, Error: q.errKey, ErrorField: q.errField}
	if q.errKey != "" {
		return v, nil, http.StatusBadRequest, true
	}
	r, err := s.svc.Report(c.Request.Context(), shop.ID, q.from, q.to, q.GroupBy)
	var e *orders.Error
	switch {
	case errors.Is(err, orders.ErrReportTooLarge):
		v.Error, v.ErrorField = "too_large", "from"
		return v, nil, http.StatusUnprocessableEntity, true
	case errors.As(err, &e) && e.Code == orders.EINVALID && e.Field == "group_by":
		v.Error, v.ErrorField = "group_by", "group_by"
		return v, nil, http.StatusBadRequest, true
	case err != nil:
		s.pageError(c, err, shop)
		return nil, nil, 0, false
	}
	return v, r, http.StatusOK, true
}

// reportPage shows the payments report of a range of days.
func (s *Server) reportPage(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.dashboardShop(c, u)
	if shop == nil {
		return
	}
	q := s.parseReportQuery(c)
	v, r, status, ok := s.buildReport(c, shop, q)
	if !ok {
		return
	}
	if r != nil {
		fillReport(v, r, shop)
		v.CSVURL = q.csvURL()
	}
	s.renderReport(c, status, shop, u, v)
}

func (s *Server) renderReport(c *gin.Context, status int, shop *orders.Shop, u *auth.User, v *templates.ReportView) {
	p := dashboardPageView(shop, u, "reports")
	p.Report = v
	// The navigation counts the disputes that wait for an answer; the report does
	// not depend on it, so a failure to count only leaves the count out.
	if alerts, err := s.disputeAlerts(c.Request.Context(), shop); err == nil {
		p.Disputes = alerts
	} else {
		s.log.WarnContext(c.Request.Context(), "count open disputes", "err", err)
	}
	s.renderPage(c, status, "reports", p)
}

// reportPageCSV downloads the range's payments as the API's CSV file. A wrong range
// shows the report page with the error instead.
func (s *Server) reportPageCSV(c *gin.Context) {
	u := dashboardUser(c)
	shop := s.dashboardShop(c, u)
	if shop == nil {
		return
	}
	v, r, status, ok := s.buildReport(c, shop, s.parseReportQuery(c))
	switch {
	case !ok:
	case r == nil:
		s.renderReport(c, status, shop, u, v)
	default:
		writePaymentsCSV(c, r)
	}
}

// fillReport puts the report's figures on the view, money formatted for the shop.
func fillReport(v *templates.ReportView, r *orders.PaymentsReport, shop *orders.Shop) {
	v.Shown = true
	v.Payments = int64(len(r.Payments))
	v.Attempts, v.PaidAttempts, v.SuccessRate = r.Attempts, r.PaidAttempts, r.SuccessRate
	v.MedianToPaid, v.P90ToPaid = seconds(r.MedianTimeToPaid), seconds(r.P90TimeToPaid)

	unit, periods := r.Periods()
	v.Unit = unit
	for _, t := range periods {
		if n := len(v.Periods); n == 0 || v.Periods[n-1].Currency != t.Currency {
			cur := t.Currency
			v.Periods = append(v.Periods, templates.ReportSeries{Currency: cur, Chart: &templates.BarChart{
				Tick: func(amount int64) string { return money(shop, cur, amount) },
			}})
		}
		series := &v.Periods[len(v.Periods)-1]
		amount := money(shop, t.Currency, t.Amount)
		series.Chart.Bars = append(series.Chart.Bars, templates.Bar{
			Label: t.Key, Short: shortPeriod(t.Key, unit), Value: t.Amount, Text: amount,
		})
		series.Rows = append(series.Rows, reportRow(shop, t))
	}

	counts := map[string]int64{}
	for _, t := range r.ByGateway {
		row := reportRow(shop, t)
		row.Key = gatewayTitle(t.Key)
		v.ByGateway = append(v.ByGateway, row)
		if counts[row.Key] == 0 {
			v.GatewayCounts = append(v.GatewayCounts, templates.CountRow{Label: row.Key})
		}
		counts[row.Key] += int64(t.Count)
	}
	for i := range v.GatewayCounts {
		v.GatewayCounts[i].Count = counts[v.GatewayCounts[i].Label]
	}
	for _, t := range r.ByStatus {
		v.ByStatus = append(v.ByStatus, reportRow(shop, t))
	}
	for _, t := range r.ByGroup {
		v.ByGroup = append(v.ByGroup, reportRow(shop, t))
	}
	for _, f := range r.FailureReasons {
		v.Reasons = append(v.Reasons, templates.CountRow{Label: f.Reason, Count: f.Count})
	}
}

func reportRow(shop *orders.Shop, t orders.ReportTotal) templates.ReportRow {
	row := templates.ReportRow{Key: t.Key, Missing: t.Missing, Currency: t.Currency, Count: int64(t.Count),
		Amount: money(shop, t.Currency, t.Amount)}
	if t.Refunded > 0 {
		row.Refunded = money(shop, t.Currency, t.Refunded)
	}
	if t.Held > 0 {
		row.Held = money(shop, t.Currency, t.Held)
	}
	return row
}

// seconds is a duration in whole seconds, -1 for none.
func seconds(d *time.Duration) int64 {
	if d == nil {
		return -1
	}
	return int64(d.Round(time.Second) / time.Second)
}

// shortPeriod is what the time axis writes under a period: "11-03" for a day, the
// whole key ("2026-11", "2026") otherwise.
func shortPeriod(key, unit string) string {
	if unit == orders.PeriodDay && len(key) == len(time.DateOnly) {
		return key[5:]
	}
	return key
}

// gatewayTitle is a gateway's name as owners know it: "Stripe", "Omise".
func gatewayTitle(name string) string {
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
