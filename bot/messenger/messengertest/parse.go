package messengertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// fields holds a Graph API request's parameters as the Graph API sees them:
// every value is a string, and objects are JSON text. Query parameters,
// form-encoded fields and the members of a JSON body all end up here, so
// access_token may come from any of them.
type fields map[string]string

// parseRequest reads the query string and the body. A JSON body's string
// members are kept as strings and its other members as JSON text; a
// form-encoded body's fields carry objects as JSON-encoded strings, which is
// how the Graph API takes them.
func parseRequest(w http.ResponseWriter, r *http.Request) (fields, *graphError) {
	f := fields{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			f[k] = v[0]
		}
	}
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && f["access_token"] == "" {
		f["access_token"] = strings.TrimSpace(auth)
	}
	if r.Body == nil {
		return f, nil
	}
	body := r.Body
	if w != nil {
		body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, invalidParam("request body is too large")
		}
		return nil, invalidParam("cannot read request body")
	}
	if err := parseBody(f, r.Header.Get("Content-Type"), data); err != nil {
		return nil, err
	}
	return f, nil
}

// parseBody merges a body into f; body fields win over query parameters.
func parseBody(f fields, contentType string, data []byte) *graphError {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || (mt == "" && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))):
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return invalidParam("Invalid JSON in request body")
		}
		for k, v := range m {
			var str string
			if json.Unmarshal(v, &str) == nil {
				f[k] = str
				continue
			}
			if string(v) == "null" {
				continue
			}
			f[k] = string(v)
		}
	case mt == "application/x-www-form-urlencoded" || mt == "":
		vals, err := url.ParseQuery(string(data))
		if err != nil {
			return invalidParam("cannot parse form-encoded request body")
		}
		for k, v := range vals {
			f[k] = v[0]
		}
	default:
		return unsupported("request body of type %q", mt)
	}
	return nil
}

// decodeObject reads a parameter that holds a JSON value. Meta's own Send API
// reference sends form fields such as recipient={'id':'<PSID>'} with single
// quotes, and the Graph API accepts them, so a value that is not JSON but
// becomes JSON once its single quotes are double quotes is read that way.
func decodeObject(name, raw string, v any) *graphError {
	if err := json.Unmarshal([]byte(raw), v); err == nil {
		return nil
	}
	if strings.Contains(raw, "'") && !strings.Contains(raw, `"`) {
		if err := json.Unmarshal([]byte(strings.ReplaceAll(raw, "'", `"`)), v); err == nil {
			return nil
		}
	}
	return invalidParam("param %s must be a JSON object", name)
}

// flexString reads a JSON string or number as a string: Meta accepts ids
// and payloads either way.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = flexString(str)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*s = flexString(n.String())
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	return errors.New("want a string or a number")
}

type recipientIn struct {
	ID        flexString `json:"id"`
	CommentID flexString `json:"comment_id"`
	PostID    flexString `json:"post_id"`
	UserRef   flexString `json:"user_ref"`
	Phone     flexString `json:"phone_number"`
}

type messageIn struct {
	Text         *string         `json:"text"`
	Attachment   *attachmentIn   `json:"attachment"`
	Template     *templateIn     `json:"template"`
	QuickReplies json.RawMessage `json:"quick_replies"`
	Attachments  json.RawMessage `json:"attachments"`
	Metadata     string          `json:"metadata"`
}

type attachmentIn struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type buttonPayloadIn struct {
	TemplateType string      `json:"template_type"`
	Text         *string     `json:"text"`
	Buttons      *[]buttonIn `json:"buttons"`
}

type buttonIn struct {
	Type    string     `json:"type"`
	URL     string     `json:"url"`
	Title   *string    `json:"title"`
	Payload flexString `json:"payload"`
}

// templateIn is a utility message template as Meta documents it:
// {"name":..., "language":{"code":...}, "components":[...]}. language may
// also be a bare code, as Meta's template listings show it.
type templateIn struct {
	Name       string          `json:"name"`
	Language   json.RawMessage `json:"language"`
	Components []componentIn   `json:"components"`
}

type componentIn struct {
	Type       string    `json:"type"`
	SubType    string    `json:"sub_type"`
	Parameters []paramIn `json:"parameters"`
}

type paramIn struct {
	Type          string     `json:"type"`
	Text          string     `json:"text"`
	ParameterName string     `json:"parameter_name"`
	Payload       flexString `json:"payload"`
	URL           string     `json:"url"`
}

func (t *templateIn) language() string {
	if len(t.Language) == 0 {
		return ""
	}
	var code string
	if json.Unmarshal(t.Language, &code) == nil {
		return code
	}
	var obj struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(t.Language, &obj)
	return obj.Code
}

// sendRequest is a decoded Send API call.
type sendRequest struct {
	recipient     recipientIn
	messagingType string
	tag           string
	message       *messageIn
	template      *templateIn // top-level "template", as one of Meta's samples sends it
	senderAction  string
}

// decodeSend turns a request's fields into a sendRequest. It checks the shape
// only; send applies Meta's limits and rules.
func decodeSend(f fields) (*sendRequest, *graphError) {
	req := &sendRequest{
		messagingType: f["messaging_type"],
		tag:           f["tag"],
		senderAction:  f["sender_action"],
	}
	raw, ok := f["recipient"]
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, invalidParam("The parameter recipient is required")
	}
	if err := decodeObject("recipient", raw, &req.recipient); err != nil {
		return nil, err
	}
	if raw, ok := f["message"]; ok && strings.TrimSpace(raw) != "" {
		req.message = &messageIn{}
		if err := decodeObject("message", raw, req.message); err != nil {
			return nil, err
		}
	}
	if raw, ok := f["template"]; ok && strings.TrimSpace(raw) != "" {
		req.template = &templateIn{}
		if err := decodeObject("template", raw, req.template); err != nil {
			return nil, err
		}
	}
	return req, nil
}
