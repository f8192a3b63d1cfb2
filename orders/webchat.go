package orders

import (
	"bytes"
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The built-in web chat. A customer's side of a web chat conversation lives at a secret
// URL, /chat/<token>, whose token names the shop and the conversation and carries a MAC
// over both. Nothing is stored for it: any web chat conversation has one, including
// those a shop opened through the API for its own visitor id, and a token cannot be
// made for a conversation without the service's key, nor moved to another shop or
// conversation.
//
// A token reads "<shop id>.<base64url(conversation uuid ‖ tag)>", where tag is the
// first 128 bits of HMAC-SHA256 over the shop id and the conversation's 16 bytes,
// keyed with a key derived (HKDF-SHA256) from the link key under its own label, so
// that a web chat tag can never be mistaken for anything the link key does elsewhere.

// chatKeyInfo labels the web chat token key in HKDF; a new version of the token gets
// a new label.
const chatKeyInfo = "chatpay webchat token v1"

const (
	chatIDLen  = 16 // a conversation ID is a UUID
	chatTagLen = 16 // 128 bits: forging one is guessing it, online, one request at a time
	// chatBlobLen is the length of the token after the shop ID and the dot.
	chatBlobLen = (8*(chatIDLen+chatTagLen) + 5) / 6
	// maxChatShopID bounds the shop part of a token, as configuration bounds shop IDs.
	maxChatShopID = 64
)

// MaxChatText is the longest message a customer may send, in characters; what chat
// platforms deliver longer is clipped to it.
const MaxChatText = maxChatText

// chatTokenEncoding is strict so that one conversation has exactly one token: a
// token with stray bits in its last character does not decode.
var chatTokenEncoding = base64.RawURLEncoding.Strict()

// deriveChatKey derives the web chat token key from the link key.
func deriveChatKey(linkKey []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, linkKey, nil, chatKeyInfo, sha256.Size)
}

// chatTag is the MAC of a shop's conversation. The conversation's bytes have a fixed
// length and come last, so no two (shop, conversation) pairs share an input.
func chatTag(key []byte, shopID string, id uuid.UUID) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(shopID))
	m.Write(id[:])
	return m.Sum(nil)[:chatTagLen]
}

// ChatToken returns the token of a web chat conversation's page.
func (s *Service) ChatToken(conv *Conversation) (string, error) {
	if conv.Channel != ChannelWebchat {
		return "", fmt.Errorf("conversation %s is on %s, not the web chat", conv.ID, conv.Channel)
	}
	if !validChatShop(conv.ShopID) {
		return "", fmt.Errorf("shop id %q cannot be part of a web chat token", conv.ShopID)
	}
	id, err := uuid.Parse(conv.ID)
	if err != nil || id.String() != conv.ID {
		return "", fmt.Errorf("conversation id %q is not a canonical UUID", conv.ID)
	}
	blob := make([]byte, 0, chatIDLen+chatTagLen)
	blob = append(blob, id[:]...)
	blob = append(blob, chatTag(s.sealer.chatKey, conv.ShopID, id)...)
	return conv.ShopID + "." + chatTokenEncoding.EncodeToString(blob), nil
}

// ChatURL returns the public URL of a web chat conversation's page, where the
// customer reads and writes it.
func (s *Service) ChatURL(conv *Conversation) (string, error) {
	tok, err := s.ChatToken(conv)
	if err != nil {
		return "", err
	}
	return s.publicURL + "/chat/" + tok, nil
}

// ConversationByChatToken returns the web chat conversation a page token names. Every
// way a token can be wrong (malformed, forged, another shop's, a conversation that is
// gone) is the same not_found, so a guesser learns nothing.
func (s *Service) ConversationByChatToken(ctx context.Context, token string) (*Conversation, error) {
	shopID, id, tag, ok := parseChatToken(token)
	noChat := Errorf(ENOTFOUND, "This chat does not exist.")
	if !ok {
		return nil, noChat
	}
	if _, err := s.Shop(shopID); err != nil {
		return nil, noChat
	}
	if !hmac.Equal(tag, chatTag(s.sealer.chatKey, shopID, id)) {
		return nil, noChat
	}
	conv, err := s.store.Conversation(ctx, shopID, id.String())
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, noChat
		}
		return nil, err
	}
	if conv.Channel != ChannelWebchat {
		return nil, noChat
	}
	return conv, nil
}

// parseChatToken splits a token into its shop, conversation and tag, checking only its
// shape.
func parseChatToken(token string) (shopID string, id uuid.UUID, tag []byte, ok bool) {
	shopID, blob, found := strings.Cut(token, ".")
	if !found || !validChatShop(shopID) || len(blob) != chatBlobLen {
		return "", uuid.UUID{}, nil, false
	}
	// The decoder skips CR and LF; a token is only ever the 64 characters of the
	// URL-safe alphabet.
	for i := range len(blob) {
		if !isBase64URL(blob[i]) {
			return "", uuid.UUID{}, nil, false
		}
	}
	raw, err := chatTokenEncoding.DecodeString(blob)
	if err != nil || len(raw) != chatIDLen+chatTagLen {
		return "", uuid.UUID{}, nil, false
	}
	copy(id[:], raw[:chatIDLen])
	return shopID, id, raw[chatIDLen:], true
}

// validChatShop reports whether s has the shape of a shop ID ([a-z0-9-]+, as
// configuration requires).
func validChatShop(s string) bool {
	if s == "" || len(s) > maxChatShopID {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// NewVisitorID returns a fresh 128-bit random visitor id, the external id of a web
// chat conversation a visitor starts: 32 lowercase hex digits, easy to copy from the
// inbox into an API call.
func NewVisitorID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// StartWebChat opens a web chat conversation for a new visitor of the shop.
func (s *Service) StartWebChat(ctx context.Context, shopID string) (*Conversation, error) {
	return s.OpenWebChat(ctx, shopID, "", "")
}

// OpenWebChat returns the shop's web chat conversation with the visitor the shop
// knows as externalID (its own customer id, say), creating it on first use, so the
// shop can give that customer the conversation's ChatURL. An empty externalID opens
// one for a new visitor. name, when the conversation is new, is the customer's name.
func (s *Service) OpenWebChat(ctx context.Context, shopID, externalID, name string) (*Conversation, error) {
	if externalID == "" {
		externalID = NewVisitorID()
	}
	for _, f := range []struct{ name, value string }{{"external_id", externalID}, {"name", name}} {
		if !utf8.ValidString(f.value) || utf8.RuneCountInString(f.value) > maxCustomerField {
			return nil, Invalidf(f.name, "must be valid text of at most %d characters", maxCustomerField)
		}
	}
	if strings.TrimSpace(externalID) == "" {
		return nil, Invalidf("external_id", "must not be blank")
	}
	return s.EnsureConversation(ctx, shopID, ChannelWebchat, externalID, name)
}

// RedactCardNumbers returns text with every card number in it redacted, and whether
// there was one, through the scrubber the service was configured with for chat
// updates (Config.ScrubChatUpdate, which works on JSON documents: a text is one, a
// JSON string). Without a scrubber, text is returned as is.
func (s *Service) RedactCardNumbers(text string) (redacted string, changed bool, err error) {
	if s.scrub == nil {
		return text, false, nil
	}
	raw, err := json.Marshal(text)
	if err != nil {
		return "", false, err
	}
	out := s.scrub(raw)
	if bytes.Equal(out, raw) {
		return text, false, nil
	}
	if err := json.Unmarshal(out, &redacted); err != nil {
		// Failing is safer than storing what the scrubber could not handle.
		return "", false, fmt.Errorf("redact card numbers: scrubber returned %d bytes that are not a JSON string: %w", len(out), err)
	}
	return redacted, redacted != text, nil
}

// ValidChatNonce reports whether s has the shape of the idempotency nonce a web chat
// message is sent with: 22 characters of base64url, 128 bits, as NewLinkToken makes.
func ValidChatNonce(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := range len(s) {
		if !isBase64URL(s[i]) {
			return false
		}
	}
	return true
}

// ReceiveWebChat records what a web chat visitor wrote in their conversation, with
// the replies that follow from it, once per nonce: the page sends a fresh random
// nonce with every message and the same one when it retries, so a double submit or a
// retried request records the message once (fresh false). The text is redacted of
// card numbers before it is stored, whatever the caller did; an empty text or one
// longer than MaxChatText is refused, not clipped, so nothing the visitor typed is lost
// without them being told.
func (s *Service) ReceiveWebChat(ctx context.Context, conv *Conversation, nonce, text string, replies ...Outbound) (fresh bool, err error) {
	if conv.Channel != ChannelWebchat {
		return false, fmt.Errorf("conversation %s is on %s, not the web chat", conv.ID, conv.Channel)
	}
	if !ValidChatNonce(nonce) {
		return false, Invalidf("nonce", "must be 22 characters of base64url; reload the page and send again")
	}
	if !utf8.ValidString(text) {
		return false, Invalidf("text", "must be valid UTF-8 text")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return false, Invalidf("text", "write a message first")
	}
	if n := utf8.RuneCountInString(text); n > MaxChatText {
		return false, Invalidf("text", "is %d characters long; a message may have at most %d", n, MaxChatText)
	}
	if text, _, err = s.RedactCardNumbers(text); err != nil {
		return false, err
	}
	// The nonce is the visitor's, so the key is scoped to their conversation: one
	// visitor cannot collide with, or probe, another's messages.
	_, fresh, err = s.ReceiveMessage(ctx, conv.ShopID, InboundMessage{
		Channel: ChannelWebchat, ExternalID: conv.ExternalID, CustomerName: conv.CustomerName,
		Key: "webchat:" + conv.ID + ":" + nonce, Text: text,
	}, replies...)
	return fresh, err
}
