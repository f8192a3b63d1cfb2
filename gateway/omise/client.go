package omise

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is Omise's API.
const DefaultBaseURL = "https://api.omise.co"

// APIVersion is the Omise-Version every request carries, so that the account's dashboard
// setting cannot change the shape of the objects this package decodes.
const APIVersion = "2019-05-29"

// VersionHeader and IdempotencyHeader are the request headers this client sets.
const (
	VersionHeader     = "Omise-Version"
	IdempotencyHeader = "Idempotency-Key"
)

// DefaultTimeout bounds one API call when ClientOptions.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxResponse bounds a response body; Omise objects are a few kilobytes, lists of 100 a
// few hundred.
const maxResponse = 4 << 20

// ClientOptions configures a Client.
type ClientOptions struct {
	// SecretKey (skey_...) authenticates every call. It never appears in errors.
	SecretKey string
	// PublicKey (pkey_...), if set, authenticates CreateSource as omise-go does; otherwise
	// CreateSource uses the secret key.
	PublicKey string
	// BaseURL overrides DefaultBaseURL (tests point it at omisetest).
	BaseURL string
	// HTTPClient sends requests; by default a client without its own timeout, because
	// Timeout bounds each call through its context instead.
	HTTPClient *http.Client
	// Timeout bounds each call (default DefaultTimeout).
	Timeout time.Duration
	// Now is the clock of the local rules (365 days); nil means time.Now.
	Now func() time.Time
}

// Client calls Omise's REST API. It is safe for concurrent use.
type Client struct {
	base      string
	secretKey string
	publicKey string
	hc        *http.Client
	timeout   time.Duration
	now       func() time.Time
}

// NewClient returns a client, or an error if the options cannot work.
func NewClient(opts ClientOptions) (*Client, error) {
	if opts.SecretKey == "" {
		return nil, errors.New("omise: a secret key is required")
	}
	base := strings.TrimRight(opts.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("omise: base URL %q is not an http(s) URL", base)
	}
	c := &Client{base: base, secretKey: opts.SecretKey, publicKey: opts.PublicKey,
		hc: opts.HTTPClient, timeout: opts.Timeout, now: opts.Now}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Error is Omise's error object, with the HTTP status it came with.
type Error struct {
	Status   int    `json:"-"`
	Object   string `json:"object"`
	Location string `json:"location"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("omise: %d %s: %s", e.Status, e.Code, e.Message)
}

// Some of Omise's error codes, for errors.As callers.
const (
	CodeAuthenticationFailure = "authentication_failure"
	CodeNotFound              = "not_found"
	CodeInvalidCharge         = "invalid_charge"
	CodeFailedRefund          = "failed_refund"
	CodeBadRequest            = "bad_request"
	// CodeExpiredCharge answers a capture or reversal of a card charge whose
	// authorisation expired uncaptured (Omise cancels it after 7 days, 30 in Japan).
	CodeExpiredCharge = "expired_charge"
)

// Temporary reports whether retrying the same call later may succeed: 5xx and 429.
func (e *Error) Temporary() bool { return e.Status >= 500 || e.Status == http.StatusTooManyRequests }

// request is one API call.
type request struct {
	method, path string
	form         url.Values
	multipart    *multipartBody
	idempotency  string
	public       bool // authenticate with the public key
}

type multipartBody struct {
	field, filename string
	content         []byte
}

// do performs r and decodes a 2xx body into out. Transport errors name the method and
// path only: the key travels in the Authorization header, never in the URL, so no error
// can carry it.
func (c *Client) do(ctx context.Context, r request, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	var body io.Reader
	contentType := ""
	switch {
	case r.multipart != nil:
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		fw, err := w.CreateFormFile(r.multipart.field, r.multipart.filename)
		if err != nil {
			return fmt.Errorf("omise: %s %s: %w", r.method, r.path, err)
		}
		if _, err := fw.Write(r.multipart.content); err != nil {
			return fmt.Errorf("omise: %s %s: %w", r.method, r.path, err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("omise: %s %s: %w", r.method, r.path, err)
		}
		body, contentType = &buf, w.FormDataContentType()
	case r.form != nil:
		body, contentType = strings.NewReader(r.form.Encode()), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, body)
	if err != nil {
		return fmt.Errorf("omise: %s %s: %w", r.method, r.path, err)
	}
	key := c.secretKey
	if r.public && c.publicKey != "" {
		key = c.publicKey
	}
	req.SetBasicAuth(key, "")
	req.Header.Set(VersionHeader, APIVersion)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "chatpay-omise/1")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.idempotency != "" {
		req.Header.Set(IdempotencyHeader, r.idempotency)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("omise: %s %s: no answer within %s: %w", r.method, r.path, c.timeout, context.DeadlineExceeded)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is ours and adds nothing
		}
		return fmt.Errorf("omise: %s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("omise: %s %s: reading the answer: %w", r.method, r.path, err)
	}
	if len(raw) > maxResponse {
		return fmt.Errorf("omise: %s %s: answer larger than %d bytes", r.method, r.path, maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Object != "error" {
			e.Object, e.Code = "error", "http_"+strconv.Itoa(resp.StatusCode)
			e.Message = "Omise answered " + resp.Status + " without an error object."
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("omise: %s %s: decoding the answer: %w", r.method, r.path, err)
	}
	return nil
}

// setMetadata adds metadata[key]=value pairs in key order (stable bodies are easier to
// compare in tests and logs).
func setMetadata(f url.Values, md map[string]string) {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f.Set("metadata["+k+"]", md[k])
	}
}

// escape makes an id safe as one path segment. Omise ids are [a-z0-9_], so this only
// matters for hostile input.
func escape(id string) string { return url.PathEscape(id) }

// ChargeParams creates a charge.
type ChargeParams struct {
	Amount      int64
	Currency    string
	Description string
	// ReturnURI is where Omise sends the customer after an offsite or 3-D Secure step.
	ReturnURI string
	Metadata  map[string]string
	// Exactly one of Card (a token, tokn_...), Source (src_...) or SourceType (a source
	// created inline, e.g. "promptpay" or "mobile_banking_scb") is set.
	Card, Source, SourceType string
	// Capture false authorises only (pre-authorisation); nil leaves Omise's default (true).
	Capture *bool
	// AuthorizationType "pre_auth" allows the single partial capture; "" or "final_auth"
	// captures the full amount.
	AuthorizationType string
}

// CreateCharge creates a charge.
func (c *Client) CreateCharge(ctx context.Context, p ChargeParams) (*Charge, error) {
	if p.Amount <= 0 {
		return nil, fmt.Errorf("omise: charge amount must be positive, got %d", p.Amount)
	}
	if len(p.Currency) != 3 {
		return nil, fmt.Errorf("omise: charge currency must be a 3-letter ISO 4217 code, got %q", p.Currency)
	}
	n := 0
	for _, s := range []string{p.Card, p.Source, p.SourceType} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return nil, errors.New("omise: a charge needs exactly one of a card token, a source id or a source type")
	}
	f := url.Values{}
	f.Set("amount", strconv.FormatInt(p.Amount, 10))
	f.Set("currency", strings.ToLower(p.Currency))
	if p.Description != "" {
		f.Set("description", p.Description)
	}
	if p.ReturnURI != "" {
		f.Set("return_uri", p.ReturnURI)
	}
	switch {
	case p.Card != "":
		f.Set("card", p.Card)
	case p.Source != "":
		f.Set("source", p.Source)
	default:
		f.Set("source[type]", p.SourceType)
	}
	if p.Capture != nil {
		f.Set("capture", strconv.FormatBool(*p.Capture))
	}
	if p.AuthorizationType != "" {
		f.Set("authorization_type", p.AuthorizationType)
	}
	setMetadata(f, p.Metadata)
	var ch Charge
	if err := c.do(ctx, request{method: http.MethodPost, path: "/charges", form: f}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// SourceParams creates a source.
type SourceParams struct {
	Type     string // SourcePromptPay, "mobile_banking_scb", "internet_banking_bbl", ...
	Amount   int64
	Currency string
}

// Source types chatpay uses.
const (
	SourcePromptPay = "promptpay"
	// SourceMobileBankingSCB is a redirect source: the charge gets an authorize_uri.
	SourceMobileBankingSCB = "mobile_banking_scb"
)

// CreateSource creates a payment source.
func (c *Client) CreateSource(ctx context.Context, p SourceParams) (*Source, error) {
	if p.Type == "" {
		return nil, errors.New("omise: a source needs a type")
	}
	if p.Amount <= 0 {
		return nil, fmt.Errorf("omise: source amount must be positive, got %d", p.Amount)
	}
	f := url.Values{}
	f.Set("type", p.Type)
	f.Set("amount", strconv.FormatInt(p.Amount, 10))
	f.Set("currency", strings.ToLower(p.Currency))
	var s Source
	if err := c.do(ctx, request{method: http.MethodPost, path: "/sources", form: f, public: true}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// RetrieveCharge fetches a charge.
func (c *Client) RetrieveCharge(ctx context.Context, id string) (*Charge, error) {
	if id == "" {
		return nil, errors.New("omise: charge id is empty")
	}
	var ch Charge
	if err := c.do(ctx, request{method: http.MethodGet, path: "/charges/" + escape(id)}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// CaptureCharge captures an authorised charge. captureAmount 0 captures the full amount;
// a smaller positive amount is the single partial capture of a pre_auth charge.
func (c *Client) CaptureCharge(ctx context.Context, id string, captureAmount int64) (*Charge, error) {
	if id == "" {
		return nil, errors.New("omise: charge id is empty")
	}
	if captureAmount < 0 {
		return nil, fmt.Errorf("omise: capture amount must not be negative, got %d", captureAmount)
	}
	f := url.Values{}
	if captureAmount > 0 {
		f.Set("capture_amount", strconv.FormatInt(captureAmount, 10))
	}
	var ch Charge
	if err := c.do(ctx, request{method: http.MethodPost, path: "/charges/" + escape(id) + "/capture", form: f}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// ReverseCharge releases an authorised, uncaptured charge.
func (c *Client) ReverseCharge(ctx context.Context, id string) (*Charge, error) {
	if id == "" {
		return nil, errors.New("omise: charge id is empty")
	}
	var ch Charge
	if err := c.do(ctx, request{method: http.MethodPost, path: "/charges/" + escape(id) + "/reverse", form: url.Values{}}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// RefundParams creates a refund.
type RefundParams struct {
	Amount   int64
	Metadata map[string]string
	// IdempotencyKey is sent as the Idempotency-Key header (see the package doc).
	IdempotencyKey string
}

// CreateRefund refunds part or all of a charge. It first fetches the charge and checks
// Omise's refund rules locally (CheckRefund), so that a refund Omise would refuse fails
// with a clear *RuleError and no call that moves money.
func (c *Client) CreateRefund(ctx context.Context, chargeID string, p RefundParams) (*Refund, error) {
	ch, err := c.RetrieveCharge(ctx, chargeID)
	if err != nil {
		return nil, err
	}
	if err := CheckRefund(ch, p.Amount, c.now()); err != nil {
		return nil, err
	}
	f := url.Values{}
	f.Set("amount", strconv.FormatInt(p.Amount, 10))
	setMetadata(f, p.Metadata)
	var r Refund
	req := request{method: http.MethodPost, path: "/charges/" + escape(chargeID) + "/refunds", form: f, idempotency: p.IdempotencyKey}
	if err := c.do(ctx, req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ListRefunds lists a charge's refunds (up to 100, the API's page limit; a charge has at
// most 15).
func (c *Client) ListRefunds(ctx context.Context, chargeID string) (*List[Refund], error) {
	if chargeID == "" {
		return nil, errors.New("omise: charge id is empty")
	}
	var l List[Refund]
	if err := c.do(ctx, request{method: http.MethodGet, path: "/charges/" + escape(chargeID) + "/refunds?limit=100"}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// RetrieveRefund fetches one refund of a charge.
func (c *Client) RetrieveRefund(ctx context.Context, chargeID, refundID string) (*Refund, error) {
	if chargeID == "" || refundID == "" {
		return nil, errors.New("omise: charge and refund ids are required")
	}
	var r Refund
	if err := c.do(ctx, request{method: http.MethodGet, path: "/charges/" + escape(chargeID) + "/refunds/" + escape(refundID)}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ListDisputes lists disputes; status "" lists all, or one of DisputeOpen, DisputePending
// or "closed" (won and lost).
func (c *Client) ListDisputes(ctx context.Context, status string) (*List[Dispute], error) {
	path := "/disputes"
	switch status {
	case "":
	case DisputeOpen, DisputePending, "closed":
		path += "/" + status
	case DisputeWon, DisputeLost:
		path += "/closed"
	default:
		return nil, fmt.Errorf("omise: unknown dispute status %q", status)
	}
	var l List[Dispute]
	if err := c.do(ctx, request{method: http.MethodGet, path: path + "?limit=100"}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// RetrieveDispute fetches a dispute.
func (c *Client) RetrieveDispute(ctx context.Context, id string) (*Dispute, error) {
	if id == "" {
		return nil, errors.New("omise: dispute id is empty")
	}
	var d Dispute
	if err := c.do(ctx, request{method: http.MethodGet, path: "/disputes/" + escape(id)}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// UpdateDispute answers a dispute with the merchant's message.
func (c *Client) UpdateDispute(ctx context.Context, id, message string) (*Dispute, error) {
	if id == "" {
		return nil, errors.New("omise: dispute id is empty")
	}
	if strings.TrimSpace(message) == "" {
		return nil, errors.New("omise: a dispute answer needs a message")
	}
	f := url.Values{}
	f.Set("message", message)
	var d Dispute
	if err := c.do(ctx, request{method: http.MethodPatch, path: "/disputes/" + escape(id), form: f}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// AcceptDispute concedes a dispute (assumed endpoint; see the package doc).
func (c *Client) AcceptDispute(ctx context.Context, id string) (*Dispute, error) {
	if id == "" {
		return nil, errors.New("omise: dispute id is empty")
	}
	var d Dispute
	if err := c.do(ctx, request{method: http.MethodPost, path: "/disputes/" + escape(id) + "/accept", form: url.Values{}}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// UploadDisputeDocument adds an evidence file to an open dispute. The file must be a PNG,
// JPEG or PDF (judged by its content, not its name) of at most MaxDocumentSize bytes;
// the dispute is fetched first and must be open. Both are checked before uploading.
func (c *Client) UploadDisputeDocument(ctx context.Context, disputeID, filename string, content []byte) (*Document, error) {
	if err := CheckDocument(filename, content); err != nil {
		return nil, err
	}
	d, err := c.RetrieveDispute(ctx, disputeID)
	if err != nil {
		return nil, err
	}
	if d.Status != DisputeOpen {
		return nil, &RuleError{Rule: RuleDisputeNotOpen,
			Message: fmt.Sprintf("Dispute %s is %s; documents can only be added while it is open.", d.ID, d.Status)}
	}
	var doc Document
	req := request{method: http.MethodPost, path: "/disputes/" + escape(disputeID) + "/documents",
		multipart: &multipartBody{field: "file", filename: filename, content: content}}
	if err := c.do(ctx, req, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}
