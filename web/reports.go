package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/chatpay/chatpay/orders"
)

// parseReportRange reads the from and to query parameters: dates (2026-11-01, the
// start of that day in UTC, as shops have no time zone of their own) or RFC 3339
// times. A bad value is an error naming its parameter; from must be before to.
func parseReportRange(c *gin.Context) (from, to time.Time, err error) {
	q := c.Request.URL.Query()
	parse := func(name string) (time.Time, error) {
		if q.Get(name) == "" {
			return time.Time{}, orders.Invalidf(name, "is required: a date (2026-11-01) or an RFC 3339 time")
		}
		t, _, err := parseListTime(q, name)
		return t, err
	}
	if from, err = parse("from"); err != nil {
		return
	}
	if to, err = parse("to"); err != nil {
		return
	}
	if !from.Before(to) {
		err = orders.Invalidf("to", "must be after from")
	}
	return
}

// report validates the request and builds the report, answering the error itself.
func (s *Server) report(c *gin.Context) (*orders.PaymentsReport, bool) {
	from, to, err := parseReportRange(c)
	if err == nil {
		var r *orders.PaymentsReport
		if r, err = s.svc.Report(c.Request.Context(), shopID(c), from, to, c.Query("group_by")); err == nil {
			return r, true
		}
	}
	s.apiError(c, err, http.StatusBadRequest)
	return nil, false
}

type reportTotalJSON struct {
	Key      string `json:"key"`
	Missing  bool   `json:"missing,omitempty"`
	Currency string `json:"currency"`
	Count    int    `json:"count"`
	Amount   int64  `json:"amount"`
	Held     int64  `json:"held_amount"`
	Refunded int64  `json:"refunded_amount"`
}

type reasonJSON struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

type paymentsReportJSON struct {
	From                time.Time         `json:"from"`
	To                  time.Time         `json:"to"`
	GroupBy             string            `json:"group_by,omitempty"`
	Payments            int               `json:"payments"`
	ByGateway           []reportTotalJSON `json:"by_gateway"`
	ByPaymentStatus     []reportTotalJSON `json:"by_payment_status"`
	ByGroup             []reportTotalJSON `json:"by_group,omitempty"`
	Attempts            int64             `json:"attempts"`
	PaidAttempts        int64             `json:"paid_attempts"`
	SuccessRate         float64           `json:"success_rate"`
	MedianSecondsToPaid *float64          `json:"median_seconds_to_paid"`
	P90SecondsToPaid    *float64          `json:"p90_seconds_to_paid"`
	FailureReasons      []reasonJSON      `json:"failure_reasons"`
}

func totalsJSON(ts []orders.ReportTotal) []reportTotalJSON {
	out := make([]reportTotalJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, reportTotalJSON{Key: t.Key, Missing: t.Missing, Currency: t.Currency,
			Count: t.Count, Amount: t.Amount, Held: t.Held, Refunded: t.Refunded})
	}
	return out
}

// paymentsReport answers GET /api/v1/reports/payments with the report's figures.
// Amounts are in minor units, as everywhere else in the JSON API.
func (s *Server) paymentsReport(c *gin.Context) {
	r, ok := s.report(c)
	if !ok {
		return
	}
	v := paymentsReportJSON{
		From: r.From, To: r.To, GroupBy: r.GroupBy, Payments: len(r.Payments),
		ByGateway: totalsJSON(r.ByGateway), ByPaymentStatus: totalsJSON(r.ByStatus),
		Attempts: r.Attempts, PaidAttempts: r.PaidAttempts, SuccessRate: r.SuccessRate,
		FailureReasons: make([]reasonJSON, 0, len(r.FailureReasons)),
	}
	if r.GroupBy != "" {
		v.ByGroup = totalsJSON(r.ByGroup)
	}
	if r.MedianTimeToPaid != nil {
		sec := r.MedianTimeToPaid.Seconds()
		v.MedianSecondsToPaid = &sec
	}
	if r.P90TimeToPaid != nil {
		sec := r.P90TimeToPaid.Seconds()
		v.P90SecondsToPaid = &sec
	}
	for _, f := range r.FailureReasons {
		v.FailureReasons = append(v.FailureReasons, reasonJSON{Reason: f.Reason, Count: f.Count})
	}
	c.JSON(http.StatusOK, v)
}

// csvCell guards a cell against formula injection: a spreadsheet runs a cell that
// starts with = + - @ (or a tab or carriage return, which some read past) as a
// formula, so such a cell gets a leading apostrophe and is shown as text. Amounts are
// never negative, so no number is touched.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// paymentsReportCSV answers GET /api/v1/reports/payments.csv with one row per
// payment (see writePaymentsCSV).
func (s *Server) paymentsReportCSV(c *gin.Context) {
	r, ok := s.report(c)
	if !ok {
		return
	}
	writePaymentsCSV(c, r)
}

// writePaymentsCSV answers with the report's payments as a CSV file, one row per
// payment; the API and the dashboard download the same file. It starts with a UTF-8
// byte order mark, without which Excel reads the file in the system's legacy code
// page and mangles Vietnamese and Thai names; amounts are major units with '.', times
// RFC 3339 in UTC.
func writePaymentsCSV(c *gin.Context, r *orders.PaymentsReport) {
	header := []string{"payment_id", "paid_at", "order_code", "order_created_at", "customer_name", "gateway",
		"gateway_ref", "currency", "amount", "refunded_amount", "payment_status", "duplicate", "metadata"}
	if r.GroupBy != "" {
		header = append(header, "metadata."+r.GroupBy)
	}
	name := "payments-" + r.From.Format(time.DateOnly) + "-" + r.To.Format(time.DateOnly) + ".csv"
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Status(http.StatusOK)
	_, _ = c.Writer.WriteString("\ufeff")
	w := csv.NewWriter(c.Writer)
	// CRLF line ends, as RFC 4180 has them and every spreadsheet reads them.
	w.UseCRLF = true
	_ = w.Write(header)
	for _, p := range r.Payments {
		meta, err := json.Marshal(p.Metadata)
		if err != nil || p.Metadata == nil {
			meta = []byte("{}")
		}
		row := []string{p.ID, p.CreatedAt.UTC().Format(time.RFC3339), p.OrderCode,
			p.OrderCreatedAt.UTC().Format(time.RFC3339), p.CustomerName, p.Gateway, p.GatewayRef, p.Currency,
			orders.FormatMajor(p.Amount, p.Currency), orders.FormatMajor(p.RefundedAmount, p.Currency),
			p.OrderPaymentStatus, strconv.FormatBool(p.Duplicate), string(meta)}
		if r.GroupBy != "" {
			row = append(row, p.Metadata[r.GroupBy])
		}
		for i := range row {
			row[i] = csvCell(row[i])
		}
		// A write error is the client going away; the status is already sent.
		if err := w.Write(row); err != nil {
			return
		}
	}
	w.Flush()
}
