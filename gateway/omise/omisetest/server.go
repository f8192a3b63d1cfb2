// Package omisetest emulates the part of Omise's REST API that package omise uses, over
// real HTTP (httptest), so that the client, its local rules and the webhook path can be
// tested without the network. It keeps charges, sources, refunds and disputes; enforces
// Basic auth with the secret key and a known Omise-Version header; enforces the
// 15-refund and captured-amount rules server side too (so tests can tell a local refusal
// from a remote one); captures and reverses (releases) authorised charges; lets tests
// complete, authorise or expire charges and open and close disputes; sends signed
// webhooks in Omise's event envelope; and injects faults (5xx answers, hangs).
//
// Authorisations expire as Omise's do (HoldDuration after they were made), in two
// steps a test drives separately. Once the emulator's clock (Options.Now) is past a
// charge's expires_at, its capture or reversal is answered with Omise's expired_charge
// error, while the charge itself still reads as capturable: Omise has not marked it
// yet. ExpireCharge is that marking, Omise's own expiry: the charge reads as expired
// and charge.expire is sent; its capture or reversal is refused the same way.
package omisetest

import (
	"bytes"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chatpay/chatpay/gateway/omise"
)

// Options configures a Server.
type Options struct {
	SecretKey string // default "skey_test_chatpay"
	PublicKey string // default "pkey_test_chatpay"
	// WebhookURL receives signed events; empty sends none.
	WebhookURL string
	// WebhookSecrets sign each delivery, one signature per secret (two during a rotation).
	WebhookSecrets []string
	// Now is the emulator's clock; nil means time.Now.
	Now func() time.Time
}

// Delivery is one webhook POST the emulator made.
type Delivery struct {
	Key    string
	Body   []byte
	Header http.Header
	Status int
	Err    error
}

// Server is the emulator. Its URL is the client's BaseURL.
type Server struct {
	*httptest.Server
	opts Options
	hc   *http.Client

	mu         sync.Mutex
	charges    map[string]*omise.Charge
	refunds    map[string][]*omise.Refund // by charge id
	idem       map[string]*omise.Refund   // Idempotency-Key -> refund
	disputes   map[string]*omise.Dispute
	sources    map[string]string // source id -> type, for charges made from a source id
	order      []string          // dispute ids in creation order
	deliveries []Delivery
	failNext   []int // statuses of the next answers
	hangNext   int
	requests   int
}

// knownVersions are the API versions Omise documents.
var knownVersions = map[string]bool{"2019-05-29": true, "2017-11-02": true, "2015-11-17": true, "2014-07-27": true}

// New starts an emulator; Close it when done.
func New(opts Options) *Server {
	if opts.SecretKey == "" {
		opts.SecretKey = "skey_test_chatpay"
	}
	if opts.PublicKey == "" {
		opts.PublicKey = "pkey_test_chatpay"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, hc: &http.Client{Timeout: 5 * time.Second},
		charges: map[string]*omise.Charge{}, refunds: map[string][]*omise.Refund{},
		idem: map[string]*omise.Refund{}, disputes: map[string]*omise.Dispute{}, sources: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /charges", s.createCharge)
	mux.HandleFunc("GET /charges/{id}", s.getCharge)
	mux.HandleFunc("POST /charges/{id}/capture", s.capture)
	mux.HandleFunc("POST /charges/{id}/reverse", s.reverse)
	mux.HandleFunc("GET /charges/{id}/refunds", s.listRefunds)
	mux.HandleFunc("POST /charges/{id}/refunds", s.createRefund)
	mux.HandleFunc("GET /charges/{id}/refunds/{rid}", s.getRefund)
	mux.HandleFunc("POST /sources", s.createSource)
	mux.HandleFunc("GET /disputes", s.listDisputes)
	mux.HandleFunc("GET /disputes/{status}", s.listOrGetDispute)
	mux.HandleFunc("PATCH /disputes/{id}", s.updateDispute)
	mux.HandleFunc("POST /disputes/{id}/accept", s.acceptDispute)
	mux.HandleFunc("POST /disputes/{id}/documents", s.uploadDocument)
	s.Server = httptest.NewServer(s.guard(mux))
	return s
}

// SecretKey and PublicKey are the keys the emulator accepts.
func (s *Server) SecretKey() string { return s.opts.SecretKey }

// SetWebhookURL changes where signed events go (the app's URL is often known only
// after the emulator started).
func (s *Server) SetWebhookURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.WebhookURL = url
}
func (s *Server) PublicKey() string { return s.opts.PublicKey }

// FailNext makes the next len(statuses) API calls answer with these statuses and an
// Omise error object, before any state changes.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, statuses...)
}

// HangNext makes the next n API calls hang until the client gives up.
func (s *Server) HangNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangNext += n
}

// Requests is how many API calls reached the emulator (after auth), faults included.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Deliveries returns the webhooks sent so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		allowed := user == s.opts.SecretKey || (r.URL.Path == "/sources" && user == s.opts.PublicKey)
		if !ok || pass != "" || !allowed {
			writeError(w, http.StatusUnauthorized, omise.CodeAuthenticationFailure, "authentication failed")
			return
		}
		if v := r.Header.Get(omise.VersionHeader); !knownVersions[v] {
			writeError(w, http.StatusBadRequest, "invalid_api_version", fmt.Sprintf("Omise-Version %q is not a known API version", v))
			return
		}
		s.mu.Lock()
		s.requests++
		hang := s.hangNext > 0
		if hang {
			s.hangNext--
		}
		fail := 0
		if !hang && len(s.failNext) > 0 {
			fail, s.failNext = s.failNext[0], s.failNext[1:]
		}
		s.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		if fail != 0 {
			writeError(w, fail, "internal_error", "injected fault")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(omise.Error{Object: "error", Location: "https://www.omise.co/api-errors#" + code, Code: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func newID(prefix string) string {
	var b [10]byte
	if _, err := crand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + "_test_" + hex.EncodeToString(b[:])
}

// snapshotCharge fills the charge's refund list and encodes it. Called with s.mu held.
func (s *Server) snapshotCharge(ch *omise.Charge) []byte {
	rs := s.refunds[ch.ID]
	data := make([]omise.Refund, len(rs))
	for i, r := range rs {
		data[i] = *r
	}
	ch.Refunds = &omise.List[omise.Refund]{Object: "list", Data: data, Limit: 20, Total: len(rs)}
	b, _ := json.Marshal(ch)
	return b
}

func (s *Server) createCharge(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, omise.CodeBadRequest, "unreadable form")
		return
	}
	f := r.PostForm
	amount, err := strconv.ParseInt(f.Get("amount"), 10, 64)
	if err != nil || amount <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_amount", "amount must be a positive integer")
		return
	}
	cur := f.Get("currency")
	if len(cur) != 3 {
		writeError(w, http.StatusBadRequest, "invalid_currency", "currency is invalid")
		return
	}
	now := s.opts.Now().UTC().Truncate(time.Second)
	ch := &omise.Charge{Object: "charge", ID: newID("chrg"), Amount: amount, Currency: strings.ToLower(cur),
		Description: f.Get("description"), ReturnURI: f.Get("return_uri"), Capture: f.Get("capture") != "false",
		AuthorizationType: f.Get("authorization_type"), Status: omise.ChargePending, CreatedAt: now, Metadata: map[string]any{}}
	for k, v := range f {
		if strings.HasPrefix(k, "metadata[") && strings.HasSuffix(k, "]") {
			ch.Metadata[k[len("metadata["):len(k)-1]] = v[0]
		}
	}
	switch {
	case f.Get("card") != "":
		ch.Authorized = true
		if f.Get("card") == FailingToken {
			ch.Authorized, ch.Status, ch.FailureCode, ch.FailureMessage = false, omise.ChargeFailed, "insufficient_fund", "insufficient funds in the account"
		} else if ch.Capture {
			ch.Status, ch.Paid, ch.PaidAt, ch.CapturedAmount = omise.ChargeSuccessful, true, &now, amount
		} else {
			exp := now.Add(HoldDuration)
			ch.Capturable, ch.AuthorizedAmount, ch.ExpiresAt = true, amount, &exp
		}
	case f.Get("source[type]") != "" || f.Get("source") != "":
		typ := f.Get("source[type]")
		if id := f.Get("source"); id != "" {
			s.mu.Lock()
			known, ok := s.sources[id]
			s.mu.Unlock()
			if !ok {
				writeError(w, http.StatusNotFound, omise.CodeNotFound, "source was not found")
				return
			}
			typ = known
		}
		src := &omise.Source{Object: "source", ID: newID("src"), Type: typ, Amount: amount, Currency: ch.Currency, ChargeStatus: "pending"}
		if typ == omise.SourcePromptPay {
			src.Flow = "offline"
			src.ScannableCode = &omise.ScannableCode{Object: "barcode", Type: "qr", Image: &omise.Document{Object: "document",
				ID: newID("docu"), Filename: "qrcode.png", DownloadURI: s.URL + "/qr/" + ch.ID + ".png"}}
			exp := now.Add(24 * time.Hour)
			ch.ExpiresAt = &exp
		} else {
			src.Flow = "redirect"
			ch.AuthorizeURI = s.URL + "/pay/" + ch.ID
		}
		ch.Source = src
	default:
		writeError(w, http.StatusBadRequest, omise.CodeBadRequest, "card or source is required")
		return
	}
	s.mu.Lock()
	s.charges[ch.ID] = ch
	body := s.snapshotCharge(ch)
	s.mu.Unlock()
	writeJSON(w, body)
}

// HoldDuration is how long a card authorisation lasts before Omise cancels it: 7 days
// (30 for merchants registered in Japan, which the emulator does not model).
const HoldDuration = 7 * 24 * time.Hour

// FailingToken is a card token whose charge fails.
const FailingToken = "tokn_test_fail"

func (s *Server) getCharge(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ch, ok := s.charges[r.PathValue("id")]
	var body []byte
	if ok {
		body = s.snapshotCharge(ch)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, omise.CodeNotFound, "charge was not found")
		return
	}
	writeJSON(w, body)
}

func (s *Server) capture(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	ch, ok := s.charges[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, omise.CodeNotFound, "charge was not found")
		return
	}
	if s.refuseExpired(w, ch) {
		s.mu.Unlock()
		return
	}
	if !ch.Capturable {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "failed_capture", "charge is not capturable")
		return
	}
	amount := ch.Amount
	if v := r.PostForm.Get("capture_amount"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 || n > ch.Amount || (n != ch.Amount && ch.AuthorizationType != "pre_auth") {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, "failed_capture", "capture_amount is invalid for this charge")
			return
		}
		amount = n
	}
	now := s.opts.Now().UTC().Truncate(time.Second)
	ch.Capturable, ch.Paid, ch.PaidAt, ch.CapturedAmount, ch.Status = false, true, &now, amount, omise.ChargeSuccessful
	body := s.snapshotCharge(ch)
	ev := s.event(omise.KeyChargeCapture, body)
	s.mu.Unlock()
	writeJSON(w, body)
	s.deliver(ev)
}

func (s *Server) reverse(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ch, ok := s.charges[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, omise.CodeNotFound, "charge was not found")
		return
	}
	if s.refuseExpired(w, ch) {
		s.mu.Unlock()
		return
	}
	if !ch.Capturable {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "failed_reverse", "only an authorized, uncaptured charge can be reversed")
		return
	}
	ch.Capturable, ch.Reversed, ch.Status = false, true, omise.ChargeReversed
	body := s.snapshotCharge(ch)
	ev := s.event(omise.KeyChargeReverse, body)
	s.mu.Unlock()
	writeJSON(w, body)
	s.deliver(ev)
}

// refuseExpired answers a capture or reversal of a card authorisation that expired
// (marked so, or past its expires_at on the emulator's clock) with Omise's
// expired_charge error, 400 "charge expired", and reports whether it did. It does not
// mark the charge: that is ExpireCharge's part. Called with s.mu held.
func (s *Server) refuseExpired(w http.ResponseWriter, ch *omise.Charge) bool {
	ranOut := ch.Capturable && ch.ExpiresAt != nil && !s.opts.Now().Before(*ch.ExpiresAt)
	if !ranOut && !(ch.Expired && ch.Authorized) {
		return false
	}
	writeError(w, http.StatusBadRequest, omise.CodeExpiredCharge, "charge expired")
	return true
}

// ExpireCharge expires a pending charge now, as Omise's own expiry does: a card
// authorisation left uncaptured (whose capture or reversal is then answered with
// expired_charge), or a source charge the customer did not pay. The charge becomes
// status expired, expired true, expired_at now, no longer capturable (authorized stays
// as it was), and charge.expire is sent.
func (s *Server) ExpireCharge(chargeID string) error {
	s.mu.Lock()
	ch, found := s.charges[chargeID]
	if !found {
		s.mu.Unlock()
		return fmt.Errorf("omisetest: charge %s not found", chargeID)
	}
	if ch.Status != omise.ChargePending {
		s.mu.Unlock()
		return fmt.Errorf("omisetest: charge %s is %s; only a pending charge expires", chargeID, ch.Status)
	}
	at := s.opts.Now().UTC().Truncate(time.Second)
	ch.Status, ch.Expired, ch.ExpiredAt, ch.Capturable = omise.ChargeExpired, true, &at, false
	if ch.Source != nil {
		ch.Source.ChargeStatus = ch.Status
	}
	ev := s.event(omise.KeyChargeExpire, s.snapshotCharge(ch))
	s.mu.Unlock()
	s.deliver(ev)
	return nil
}

func (s *Server) listRefunds(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	_, ok := s.charges[r.PathValue("id")]
	rs := s.refunds[r.PathValue("id")]
	data := make([]omise.Refund, len(rs))
	for i, x := range rs {
		data[i] = *x
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, omise.CodeNotFound, "charge was not found")
		return
	}
	b, _ := json.Marshal(omise.List[omise.Refund]{Object: "list", Data: data, Limit: 100, Total: len(data)})
	writeJSON(w, b)
}

func (s *Server) createRefund(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, omise.CodeBadRequest, "unreadable form")
		return
	}
	amount, err := strconv.ParseInt(r.PostForm.Get("amount"), 10, 64)
	if err != nil || amount <= 0 {
		writeError(w, http.StatusBadRequest, "invalid_amount", "amount must be a positive integer")
		return
	}
	key := r.Header.Get(omise.IdempotencyHeader)
	s.mu.Lock()
	if prev, ok := s.idem[key]; ok && key != "" {
		b, _ := json.Marshal(prev)
		s.mu.Unlock()
		writeJSON(w, b)
		return
	}
	ch, ok := s.charges[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, omise.CodeNotFound, "charge was not found")
		return
	}
	msg := ""
	switch {
	case ch.Dispute != nil:
		msg = "charge is disputed"
	case ch.CapturedAmount == 0:
		msg = "charge has not been captured"
	case len(s.refunds[ch.ID]) >= omise.MaxRefundsPerCharge:
		msg = "charge has reached the refund limit"
	case amount > ch.CapturedAmount-ch.RefundedAmount:
		msg = "refund amount exceeds the captured amount"
	}
	if msg != "" {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, omise.CodeFailedRefund, msg)
		return
	}
	rf := &omise.Refund{Object: "refund", ID: newID("rfnd"), Amount: amount, Currency: ch.Currency, Charge: ch.ID,
		Status: "closed", CreatedAt: s.opts.Now().UTC().Truncate(time.Second), Metadata: map[string]any{}}
	for k, v := range r.PostForm {
		if strings.HasPrefix(k, "metadata[") && strings.HasSuffix(k, "]") {
			rf.Metadata[k[len("metadata["):len(k)-1]] = v[0]
		}
	}
	s.refunds[ch.ID] = append(s.refunds[ch.ID], rf)
	ch.RefundedAmount += amount
	if key != "" {
		s.idem[key] = rf
	}
	b, _ := json.Marshal(rf)
	ev := s.event(omise.KeyRefundCreate, b)
	s.mu.Unlock()
	writeJSON(w, b)
	s.deliver(ev)
}

func (s *Server) getRefund(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var found *omise.Refund
	for _, x := range s.refunds[r.PathValue("id")] {
		if x.ID == r.PathValue("rid") {
			found = x
		}
	}
	var b []byte
	if found != nil {
		b, _ = json.Marshal(found)
	}
	s.mu.Unlock()
	if found == nil {
		writeError(w, http.StatusNotFound, omise.CodeNotFound, "refund was not found")
		return
	}
	writeJSON(w, b)
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, omise.CodeBadRequest, "unreadable form")
		return
	}
	amount, err := strconv.ParseInt(r.PostForm.Get("amount"), 10, 64)
	typ := r.PostForm.Get("type")
	if err != nil || amount <= 0 || typ == "" {
		writeError(w, http.StatusBadRequest, omise.CodeBadRequest, "type and a positive amount are required")
		return
	}
	src := omise.Source{Object: "source", ID: newID("src"), Type: typ, Amount: amount, Currency: strings.ToLower(r.PostForm.Get("currency")), Flow: "redirect", ChargeStatus: "unknown"}
	if typ == omise.SourcePromptPay {
		src.Flow = "offline"
	}
	s.mu.Lock()
	s.sources[src.ID] = typ
	s.mu.Unlock()
	b, _ := json.Marshal(src)
	writeJSON(w, b)
}

func (s *Server) listDisputes(w http.ResponseWriter, r *http.Request) { s.writeDisputes(w, "") }

func (s *Server) listOrGetDispute(w http.ResponseWriter, r *http.Request) {
	switch st := r.PathValue("status"); st {
	case omise.DisputeOpen, omise.DisputePending, "closed":
		s.writeDisputes(w, st)
	default:
		s.mu.Lock()
		d, ok := s.disputes[st]
		var b []byte
		if ok {
			b, _ = json.Marshal(d)
		}
		s.mu.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, omise.CodeNotFound, "dispute was not found")
			return
		}
		writeJSON(w, b)
	}
}

func (s *Server) writeDisputes(w http.ResponseWriter, status string) {
	s.mu.Lock()
	var data []omise.Dispute
	for _, id := range s.order {
		d := s.disputes[id]
		closed := d.Status == omise.DisputeWon || d.Status == omise.DisputeLost
		if status == "" || d.Status == status || (status == "closed" && closed) {
			data = append(data, *d)
		}
	}
	b, _ := json.Marshal(omise.List[omise.Dispute]{Object: "list", Data: data, Limit: 100, Total: len(data)})
	s.mu.Unlock()
	writeJSON(w, b)
}

func (s *Server) updateDispute(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	d, ok := s.disputes[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, omise.CodeNotFound, "dispute was not found")
		return
	}
	if d.Status != omise.DisputeOpen {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "invalid_dispute", "only an open dispute can be updated")
		return
	}
	d.Message, d.Status = r.PostForm.Get("message"), omise.DisputePending
	b, _ := json.Marshal(d)
	ev := s.event(omise.KeyDisputeUpdate, b)
	s.mu.Unlock()
	writeJSON(w, b)
	s.deliver(ev)
}

func (s *Server) acceptDispute(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	d, ok := s.disputes[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, omise.CodeNotFound, "dispute was not found")
		return
	}
	if d.Status != omise.DisputeOpen && d.Status != omise.DisputePending {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "invalid_dispute", "dispute is closed")
		return
	}
	now := s.opts.Now().UTC().Truncate(time.Second)
	d.Status, d.ClosedAt = omise.DisputeLost, &now
	b, _ := json.Marshal(d)
	ev := s.event(omise.KeyDisputeClose, b)
	s.mu.Unlock()
	writeJSON(w, b)
	s.deliver(ev)
}

func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, omise.MaxDocumentSize+1<<20)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		writeError(w, http.StatusBadRequest, omise.CodeBadRequest, "multipart field \"file\" is required")
		return
	}
	defer file.Close()
	content, err := io.ReadAll(file)
	if err != nil || len(content) > omise.MaxDocumentSize {
		writeError(w, http.StatusBadRequest, "invalid_document", "document may not exceed 10MB")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.disputes[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, omise.CodeNotFound, "dispute was not found")
		return
	}
	if d.Status != omise.DisputeOpen {
		writeError(w, http.StatusBadRequest, "invalid_dispute", "documents may only be added to an open dispute")
		return
	}
	doc := omise.Document{Object: "document", ID: newID("docu"), Filename: hdr.Filename, Kind: "other"}
	if d.Documents == nil {
		d.Documents = &omise.List[omise.Document]{Object: "list"}
	}
	d.Documents.Data = append(d.Documents.Data, doc)
	d.Documents.Total = len(d.Documents.Data)
	b, _ := json.Marshal(doc)
	writeJSON(w, b)
}

// Charge returns a copy of a charge's current state.
func (s *Server) Charge(id string) (omise.Charge, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.charges[id]
	if !ok {
		return omise.Charge{}, false
	}
	s.snapshotCharge(ch)
	return *ch, true
}

// Complete settles a pending source charge as the customer's bank would: successful
// (paid and captured) or failed. It sends charge.complete.
func (s *Server) Complete(chargeID string, ok bool) error {
	s.mu.Lock()
	ch, found := s.charges[chargeID]
	if !found {
		s.mu.Unlock()
		return fmt.Errorf("omisetest: charge %s not found", chargeID)
	}
	if ch.Status != omise.ChargePending || ch.Capturable {
		s.mu.Unlock()
		return fmt.Errorf("omisetest: charge %s is %s, not awaiting the customer", chargeID, ch.Status)
	}
	now := s.opts.Now().UTC().Truncate(time.Second)
	if ok {
		ch.Authorized, ch.Paid, ch.PaidAt, ch.CapturedAmount, ch.Status = true, true, &now, ch.Amount, omise.ChargeSuccessful
	} else {
		ch.Status, ch.FailureCode, ch.FailureMessage = omise.ChargeFailed, "payment_rejected", "the payment was rejected"
	}
	if ch.Source != nil {
		ch.Source.ChargeStatus = ch.Status
	}
	ev := s.event(omise.KeyChargeComplete, s.snapshotCharge(ch))
	s.mu.Unlock()
	s.deliver(ev)
	return nil
}

// Authorize settles a pending charge as authorised but not captured and sends
// charge.complete: the card holds the money until the charge is captured or reversed,
// or until the authorisation expires (expires_at becomes HoldDuration from now), as a
// card charge created with capture=false (a pre-authorisation) is once the card is
// checked. chatpay's own charges use sources, which Omise captures at once; tests use
// Authorize to have such a charge held, as it would be from a card.
func (s *Server) Authorize(chargeID string) error {
	s.mu.Lock()
	ch, found := s.charges[chargeID]
	if !found {
		s.mu.Unlock()
		return fmt.Errorf("omisetest: charge %s not found", chargeID)
	}
	if ch.Status != omise.ChargePending || ch.Capturable {
		s.mu.Unlock()
		return fmt.Errorf("omisetest: charge %s is %s, not awaiting the customer", chargeID, ch.Status)
	}
	exp := s.opts.Now().UTC().Truncate(time.Second).Add(HoldDuration)
	ch.Capture, ch.Authorized, ch.Capturable, ch.AuthorizedAmount, ch.ExpiresAt = false, true, true, ch.Amount, &exp
	ev := s.event(omise.KeyChargeComplete, s.snapshotCharge(ch))
	s.mu.Unlock()
	s.deliver(ev)
	return nil
}

// OpenDispute opens a dispute on a captured charge for its full amount and sends
// dispute.create.
func (s *Server) OpenDispute(chargeID string) (omise.Dispute, error) {
	s.mu.Lock()
	ch, ok := s.charges[chargeID]
	if !ok || ch.CapturedAmount == 0 {
		s.mu.Unlock()
		return omise.Dispute{}, fmt.Errorf("omisetest: charge %s not found or not captured", chargeID)
	}
	if ch.Dispute != nil {
		s.mu.Unlock()
		return omise.Dispute{}, fmt.Errorf("omisetest: charge %s is already disputed", chargeID)
	}
	d := &omise.Dispute{Object: "dispute", ID: newID("dspt"), Amount: ch.CapturedAmount, Currency: ch.Currency,
		Status: omise.DisputeOpen, Charge: ch.ID, ReasonCode: "goods_or_services_not_provided",
		ReasonMessage: "Services not provided or Merchandise not received", CreatedAt: s.opts.Now().UTC().Truncate(time.Second)}
	s.disputes[d.ID] = d
	s.order = append(s.order, d.ID)
	ch.Dispute = d
	b, _ := json.Marshal(d)
	ev := s.event(omise.KeyDisputeCreate, b)
	out := *d
	s.mu.Unlock()
	s.deliver(ev)
	return out, nil
}

// CloseDispute decides a dispute (won or lost) and sends dispute.close.
func (s *Server) CloseDispute(disputeID string, won bool) error {
	s.mu.Lock()
	d, ok := s.disputes[disputeID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("omisetest: dispute %s not found", disputeID)
	}
	now := s.opts.Now().UTC().Truncate(time.Second)
	d.Status, d.ClosedAt = omise.DisputeLost, &now
	if won {
		d.Status = omise.DisputeWon
	}
	b, _ := json.Marshal(d)
	ev := s.event(omise.KeyDisputeClose, b)
	s.mu.Unlock()
	s.deliver(ev)
	return nil
}

// pendingEvent is an event built under the lock and delivered after it is released, so
// that a receiver calling back into the emulator (to re-fetch) cannot deadlock.
type pendingEvent struct {
	url  string // where it goes, read under s.mu
	key  string
	body []byte
}

// event wraps a data snapshot in Omise's event envelope. Called with s.mu held.
func (s *Server) event(key string, data []byte) *pendingEvent {
	if s.opts.WebhookURL == "" {
		return nil
	}
	id := newID("evnt")
	env := map[string]any{
		"object": "event", "id": id, "livemode": false, "location": "/events/" + id,
		"webhook_deliveries": []any{}, "key": key, "created_at": s.opts.Now().UTC().Format(time.RFC3339),
		"data": json.RawMessage(data),
	}
	b, _ := json.Marshal(env)
	return &pendingEvent{key: key, body: b, url: s.opts.WebhookURL}
}

// SignedHeader returns the webhook headers for body at the emulator's clock, one
// signature per configured secret.
func (s *Server) SignedHeader(body []byte) http.Header {
	ts := strconv.FormatInt(s.opts.Now().Unix(), 10)
	var sigs []string
	for _, sec := range s.opts.WebhookSecrets {
		if sig, err := omise.Sign(sec, ts, body); err == nil {
			sigs = append(sigs, sig)
		}
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(omise.TimestampHeader, ts)
	h.Set(omise.SignatureHeader, strings.Join(sigs, ","))
	return h
}

// deliver POSTs one event once and records the outcome (no retries: tests inspect
// Deliveries and resend if they need to).
func (s *Server) deliver(ev *pendingEvent) {
	if ev == nil {
		return
	}
	h := s.SignedHeader(ev.body)
	d := Delivery{Key: ev.key, Body: ev.body, Header: h}
	req, err := http.NewRequest(http.MethodPost, ev.url, bytes.NewReader(ev.body))
	if err == nil {
		req.Header = h.Clone()
		var resp *http.Response
		resp, err = s.hc.Do(req)
		if err == nil {
			d.Status = resp.StatusCode
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	d.Err = err
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
}
