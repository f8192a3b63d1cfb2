package messenger

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chatpay/chatpay/orders"
)

// Defaults for Config.
const (
	DefaultAPIURL  = "https://graph.facebook.com"
	DefaultVersion = "v21.0"
	DefaultTimeout = 15 * time.Second
)

// Limits Meta documents for the Send API (see the package doc for the pages).
const (
	// maxText is a text message's limit, in characters.
	maxText = 2000
	// maxTemplateText is the button template's text limit, in characters.
	maxTemplateText = 640
	// maxButtons is the button template's limit: 1 to 3 buttons.
	maxButtons = 3
	// maxTitle is a button title's limit, in characters.
	maxTitle = 20
	// maxPayload is a postback button's payload limit, in characters.
	maxPayload = 1000
	// maxResponseBody caps what we read of an answer: a Send API answer is a
	// few hundred bytes, and a broken proxy must not make us read without end.
	maxResponseBody = 1 << 20
)

// Config is one Facebook page's connection to the Graph API.
type Config struct {
	// PageID is the Facebook page's numeric id; messages are sent as this page.
	PageID string
	// PageAccessToken is the page's access token. It never appears in errors.
	PageAccessToken string
	// AppSecret is the Meta app's secret: it signs every call (appsecret_proof)
	// and is the key of webhook signatures.
	AppSecret string
	// AppID is the Meta app's numeric id; echoes carrying it are our own sends.
	AppID string
	// APIURL is the Graph API's base URL ("" means https://graph.facebook.com).
	APIURL string
	// Version is the Graph API version ("" means v21.0).
	Version string
	// HTTPClient makes the calls (nil means a client with dial and TLS
	// timeouts). Give it no overall Timeout below Timeout.
	HTTPClient *http.Client
	// Timeout bounds each call (0 means 15 seconds).
	Timeout time.Duration
}

// Out is a message's content, the same shape as the Telegram adapter's: plain
// text and buttons. A button with URL opens a page (web_url), a button with
// Data sends a postback with Data as its payload.
type Out struct {
	Text    string
	Buttons []orders.Button
}

// MessagingType is the Send API's messaging_type.
type MessagingType string

const (
	// Response answers a message the person sent (inside the 24-hour window).
	Response MessagingType = "RESPONSE"
	// Update is a message the page sends on its own initiative, still inside
	// the 24-hour window (an order was paid).
	Update MessagingType = "UPDATE"
)

// SendOptions tunes one Send.
type SendOptions struct {
	// MessagingType is Response ("" means Response) or Update.
	MessagingType MessagingType
}

// UtilityTemplate is an approved utility message template and the values for
// its placeholders. Parameters fill the body, HeaderParameters the header (if
// it has placeholders). Templates created with parameter_format NAMED need
// every parameter's Name; positional templates need none, in order.
type UtilityTemplate struct {
	Name             string
	Language         string // the template's language code, e.g. "en" or "en_US"
	HeaderParameters []TemplateParameter
	Parameters       []TemplateParameter
}

// TemplateParameter is one placeholder's value.
type TemplateParameter struct {
	Name string // the placeholder's name for NAMED templates; "" for positional
	Text string
}

// Client talks to the Graph API as one page. It is safe for concurrent use.
type Client struct {
	http     *http.Client
	endpoint string // {APIURL}/{Version}/{PageID}/messages, without the query
	query    string // access_token and appsecret_proof, encoded
	token    string
	proof    string
	pageID   string
	appID    string
	timeout  time.Duration
}

var (
	numericID  = regexp.MustCompile(`^[0-9]{1,32}$`)
	versionRe  = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,3}$`)
	templateRe = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	languageRe = regexp.MustCompile(`^[A-Za-z]{2,3}(_[A-Za-z0-9]{2,8})?$`)
)

// newHTTPClient bounds each phase that can hang and leaves the whole exchange
// to the per-call deadline.
func newHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
	}}
}

// AppSecretProof returns the appsecret_proof Meta asks for with a token: the
// hex HMAC-SHA256 of the token keyed with the app secret.
func AppSecretProof(token, appSecret string) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(token))
	return hex.EncodeToString(mac.Sum(nil))
}

// NewClient checks cfg and makes a Client. It makes no network call.
func NewClient(cfg Config) (*Client, error) {
	token := strings.TrimSpace(cfg.PageAccessToken)
	switch {
	case !numericID.MatchString(cfg.PageID):
		return nil, fmt.Errorf("messenger: page id %q is not a numeric Facebook page id", cfg.PageID)
	case token == "":
		return nil, errors.New("messenger: the page access token is empty")
	case strings.ContainsAny(token, " \t\r\n"):
		// Never echo the token, even a wrong one: it may still be a secret.
		return nil, errors.New("messenger: the page access token contains white space")
	case cfg.AppSecret == "":
		return nil, errors.New("messenger: the app secret is empty; calls are signed with it (appsecret_proof)")
	case !numericID.MatchString(cfg.AppID):
		return nil, fmt.Errorf("messenger: app id %q is not a numeric Meta app id", cfg.AppID)
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("messenger: api_url %q is not an http(s) URL", apiURL)
	}
	version := cfg.Version
	if version == "" {
		version = DefaultVersion
	}
	if !versionRe.MatchString(version) {
		return nil, fmt.Errorf("messenger: graph api version %q does not look like v21.0", version)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = newHTTPClient()
	}
	proof := AppSecretProof(token, cfg.AppSecret)
	// The token travels as a query parameter, as in every example in Meta's
	// documentation; errors never carry the URL (see transportError).
	q := url.Values{"access_token": {token}, "appsecret_proof": {proof}}
	return &Client{
		http:     hc,
		endpoint: strings.TrimRight(apiURL, "/") + "/" + version + "/" + cfg.PageID + "/messages",
		query:    q.Encode(),
		token:    token,
		proof:    proof,
		pageID:   cfg.PageID,
		appID:    cfg.AppID,
		timeout:  timeout,
	}, nil
}

// PageID is the page the client sends as.
func (c *Client) PageID() string { return c.pageID }

// AppID is the Meta app the client belongs to; an echo with this app_id is a
// message chatpay itself sent.
func (c *Client) AppID() string { return c.appID }

// Wire format of the Send API (see the package doc).
type (
	recipient struct {
		ID        string `json:"id,omitempty"`
		CommentID string `json:"comment_id,omitempty"`
	}
	sendRequest struct {
		Recipient     recipient     `json:"recipient"`
		MessagingType MessagingType `json:"messaging_type,omitempty"`
		Message       any           `json:"message"`
	}
	textMessage struct {
		Text string `json:"text"`
	}
	attachmentMessage struct {
		Attachment attachment `json:"attachment"`
	}
	attachment struct {
		Type    string         `json:"type"`
		Payload buttonTemplate `json:"payload"`
	}
	buttonTemplate struct {
		TemplateType string       `json:"template_type"`
		Text         string       `json:"text"`
		Buttons      []wireButton `json:"buttons"`
	}
	wireButton struct {
		Type    string `json:"type"`
		URL     string `json:"url,omitempty"`
		Title   string `json:"title"`
		Payload string `json:"payload,omitempty"`
	}
	templateMessage struct {
		Template wireTemplate `json:"template"`
	}
	wireTemplate struct {
		Name       string          `json:"name"`
		Language   wireLanguage    `json:"language"`
		Components []wireComponent `json:"components,omitempty"`
	}
	wireLanguage struct {
		Code string `json:"code"`
	}
	wireComponent struct {
		Type       string          `json:"type"`
		Parameters []wireParameter `json:"parameters"`
	}
	wireParameter struct {
		Type          string `json:"type"`
		ParameterName string `json:"parameter_name,omitempty"`
		Text          string `json:"text"`
	}
	sendResponse struct {
		RecipientID string `json:"recipient_id"`
		MessageID   string `json:"message_id"`
	}
)

// Send delivers out to the person with page-scoped id psid and returns Meta's
// message id. Without buttons it is a text message; with buttons, a button
// template. A message Meta would refuse for its shape (too long, too many
// buttons) fails with a bot.PermanentError before any call.
func (c *Client) Send(ctx context.Context, psid string, out Out, opts SendOptions) (messageID string, err error) {
	const op = "send"
	if !validPSID(psid) {
		return "", invalid(op, fmt.Sprintf("%q is not a page-scoped id.", psid))
	}
	mt := opts.MessagingType
	switch mt {
	case "":
		mt = Response
	case Response, Update:
	default:
		return "", invalid(op, fmt.Sprintf("Messaging type %q is not supported; use RESPONSE or UPDATE.", mt))
	}
	msg, err := message(op, out)
	if err != nil {
		return "", err
	}
	resp, err := c.post(ctx, op, sendRequest{Recipient: recipient{ID: psid}, MessagingType: mt, Message: msg})
	if err != nil {
		return "", err
	}
	return resp.MessageID, nil
}

// SendUtility sends an approved utility message template to psid. Meta lets
// utility messages reach a person outside the 24-hour window.
func (c *Client) SendUtility(ctx context.Context, psid string, tmpl UtilityTemplate) (string, error) {
	const op = "send utility"
	if !validPSID(psid) {
		return "", invalid(op, fmt.Sprintf("%q is not a page-scoped id.", psid))
	}
	msg, err := utilityMessage(op, tmpl)
	if err != nil {
		return "", err
	}
	// messaging_type is left out as in Meta's utility message examples.
	resp, err := c.post(ctx, op, sendRequest{Recipient: recipient{ID: psid}, Message: msg})
	if err != nil {
		return "", err
	}
	return resp.MessageID, nil
}

// PrivateReply answers a comment on the page with a private message
// (recipient {comment_id}). Meta allows one private reply per comment, within
// 7 days of it. It returns the commenter's page-scoped id when Meta says it
// ("" otherwise) and the message id.
func (c *Client) PrivateReply(ctx context.Context, commentID string, out Out) (recipientPSID, messageID string, err error) {
	const op = "private reply"
	if commentID == "" || strings.ContainsAny(commentID, " \t\r\n/?#") {
		return "", "", invalid(op, fmt.Sprintf("%q is not a comment id.", commentID))
	}
	msg, err := message(op, out)
	if err != nil {
		return "", "", err
	}
	resp, err := c.post(ctx, op, sendRequest{Recipient: recipient{CommentID: commentID}, MessagingType: Response, Message: msg})
	if err != nil {
		return "", "", err
	}
	return resp.RecipientID, resp.MessageID, nil
}

// validPSID accepts what can be a page-scoped id. Meta's are digits, but the id
// only travels in the JSON body, so anything short and printable is passed on
// and Meta judges it.
func validPSID(psid string) bool {
	return psid != "" && len(psid) <= 64 && !strings.ContainsFunc(psid, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == utf8.RuneError
	})
}

// message builds the Send API message for out: text alone, or a button template.
func message(op string, out Out) (any, error) {
	if strings.TrimSpace(out.Text) == "" {
		return nil, invalid(op, "The message is empty.")
	}
	n := utf8.RuneCountInString(out.Text)
	if len(out.Buttons) == 0 {
		if n > maxText {
			return nil, invalid(op, fmt.Sprintf("The message has %d characters; Messenger allows %d.", n, maxText))
		}
		return textMessage{Text: out.Text}, nil
	}
	if len(out.Buttons) > maxButtons {
		return nil, invalid(op, fmt.Sprintf("The message has %d buttons; Messenger allows at most %d under one message.", len(out.Buttons), maxButtons))
	}
	if n > maxTemplateText {
		return nil, invalid(op, fmt.Sprintf("The message has %d characters; Messenger allows %d above buttons.", n, maxTemplateText))
	}
	buttons := make([]wireButton, 0, len(out.Buttons))
	for _, b := range out.Buttons {
		title := ButtonTitle(b.Label)
		switch {
		case title == "":
			return nil, invalid(op, "A button in the message has no label.")
		case b.URL != "" && b.Data != "":
			return nil, invalid(op, fmt.Sprintf("The button %q has both a link and data; it may have one.", b.Label))
		case b.URL == "" && b.Data == "":
			return nil, invalid(op, fmt.Sprintf("The button %q has neither a link nor data.", b.Label))
		case b.URL != "":
			u, err := url.Parse(b.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, invalid(op, fmt.Sprintf("The button %q links to %q, which is not an http(s) address.", b.Label, b.URL))
			}
			buttons = append(buttons, wireButton{Type: "web_url", URL: b.URL, Title: title})
		default:
			if utf8.RuneCountInString(b.Data) > maxPayload {
				return nil, invalid(op, fmt.Sprintf("The button %q carries more than %d characters of data.", b.Label, maxPayload))
			}
			buttons = append(buttons, wireButton{Type: "postback", Title: title, Payload: b.Data})
		}
	}
	return attachmentMessage{Attachment: attachment{Type: "template", Payload: buttonTemplate{
		TemplateType: "button", Text: out.Text, Buttons: buttons,
	}}}, nil
}

// ButtonTitle makes label fit a button: trimmed, and cut to Messenger's 20
// characters with "…" as the last one when longer, on a rune boundary.
func ButtonTitle(label string) string {
	label = strings.TrimSpace(strings.ToValidUTF8(label, ""))
	if utf8.RuneCountInString(label) <= maxTitle {
		return label
	}
	runes := []rune(label)[:maxTitle-1]
	return strings.TrimSpace(string(runes)) + "…"
}

// utilityMessage builds the message of a utility template send.
func utilityMessage(op string, tmpl UtilityTemplate) (any, error) {
	if !templateRe.MatchString(tmpl.Name) {
		return nil, invalid(op, fmt.Sprintf("%q is not a template name (lower-case letters, digits and underscores).", tmpl.Name))
	}
	if !languageRe.MatchString(tmpl.Language) {
		return nil, invalid(op, fmt.Sprintf("%q is not a template language code such as en or en_US.", tmpl.Language))
	}
	var comps []wireComponent
	for _, part := range []struct {
		typ    string
		params []TemplateParameter
	}{{"header", tmpl.HeaderParameters}, {"body", tmpl.Parameters}} {
		if len(part.params) == 0 {
			continue
		}
		params := make([]wireParameter, 0, len(part.params))
		named := part.params[0].Name != ""
		for i, p := range part.params {
			switch {
			case strings.TrimSpace(p.Text) == "":
				return nil, invalid(op, fmt.Sprintf("Parameter %d of the template's %s is empty.", i+1, part.typ))
			case (p.Name != "") != named:
				return nil, invalid(op, fmt.Sprintf("The template's %s mixes named and positional parameters.", part.typ))
			}
			params = append(params, wireParameter{Type: "text", ParameterName: p.Name, Text: p.Text})
		}
		comps = append(comps, wireComponent{Type: part.typ, Parameters: params})
	}
	return templateMessage{Template: wireTemplate{Name: tmpl.Name, Language: wireLanguage{Code: tmpl.Language}, Components: comps}}, nil
}

// post sends one Send API request and classifies its failure.
func (c *Client) post(ctx context.Context, op string, body sendRequest) (sendResponse, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return sendResponse{}, invalid(op, "The message cannot be encoded: "+err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"?"+c.query, bytes.NewReader(data))
	if err != nil {
		return sendResponse{}, c.transport(op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return sendResponse{}, c.transport(op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return sendResponse{}, c.transport(op, err)
	}
	if len(raw) > maxResponseBody {
		return sendResponse{}, c.transport(op, fmt.Errorf("the answer is over %d bytes", maxResponseBody))
	}
	if err := classify(op, resp.StatusCode, resp.Header, raw, c.scrub); err != nil {
		return sendResponse{}, err
	}
	var out sendResponse
	if err := json.Unmarshal(raw, &out); err != nil || out.MessageID == "" {
		// The message may have gone out; a retry might send it twice, but
		// losing it silently would be worse.
		return sendResponse{}, c.transport(op, fmt.Errorf("HTTP %d answer without a message_id: %.200s", resp.StatusCode, raw))
	}
	return out, nil
}

// transportError is a call that got no usable answer (timeout, refused
// connection, unreadable body). It is retryable. Its text is scrubbed of the
// token and the proof, and the request URL (which carries them) is dropped, so
// any error in its chain can be logged.
type transportError struct {
	op   string
	text string
	err  error
}

func (e *transportError) Error() string { return "messenger " + e.op + ": " + e.text }

func (e *transportError) Unwrap() error { return e.err }

func (c *Client) transport(op string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		// Keep the cause (errors.Is(err, context.DeadlineExceeded) still
		// holds) but not the URL.
		err = &url.Error{Op: ue.Op, URL: c.scrub(strings.SplitN(ue.URL, "?", 2)[0]), Err: ue.Err}
	}
	return &transportError{op: op, text: c.scrub(err.Error()), err: err}
}

// scrub removes the token and the proof from s.
func (c *Client) scrub(s string) string {
	if c.token != "" {
		s = strings.ReplaceAll(s, c.token, "<token>")
		s = strings.ReplaceAll(s, url.QueryEscape(c.token), "<token>")
	}
	if c.proof != "" {
		s = strings.ReplaceAll(s, c.proof, "<proof>")
	}
	return s
}

// invalid is a message that Meta would refuse for its shape, so sending it
// can only fail.
func invalid(op, reason string) error {
	return &permanentError{reason: reason, err: &APIError{Op: op, Message: reason}}
}
