package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chatpay/chatpay/orders"
)

// Limiter spaces outbound messages so platforms' limits are never hit. Implementations
// live in bot/ratelimit/memory (one process) and bot/ratelimit/redis (shared between
// replicas); both pass the contract suite in bot/ratelimit/limittest.
//
// Both count events in a sliding window: a Limit of N per P lets at most N reservations
// through in any span of P. A token bucket or GCRA with a burst of N would let almost
// 2N through in one span (a burst at its start, then the refilled rate), which is
// exactly what makes Telegram answer 429 to a group's 21st message in a minute.
type Limiter interface {
	// Reserve takes one slot under every limit and returns how long the caller must
	// wait before sending (0 = now). It never blocks. When a limit is full, it
	// returns the wait until a slot frees and takes nothing.
	//
	// Reserve is atomic across all given limits: either every limit gets a slot and
	// the wait is 0, or none does and the wait is the longest of the full limits'.
	// A caller that was told to wait calls Reserve again after the wait; another
	// sender may have taken the slot meanwhile, in which case it is told to wait again.
	Reserve(ctx context.Context, limits ...Limit) (wait time.Duration, err error)
}

// Limit allows Events reservations under Key in any span of Per, e.g.
// {"tg:{42}:chat:123", 1, time.Second}. Keys are shared by everything reserving under
// them: in Redis, between every replica.
type Limit struct {
	Key    string
	Events int
	Per    time.Duration
}

// String describes the limit for errors and logs.
func (l Limit) String() string {
	return fmt.Sprintf("%s %d/%s", l.Key, l.Events, l.Per)
}

// maxLimitKey bounds a key's length; keys are built from ids, and a longer one is a
// bug that should not grow Redis keys without bound.
const maxLimitKey = 256

// ValidateLimits reports why limits cannot be reserved together. Implementations call
// it first so that every Limiter refuses the same mistakes. A key may appear only once,
// because a slot is taken per key: two limits on one key would count each reservation
// twice.
func ValidateLimits(limits []Limit) error {
	for i, l := range limits {
		switch {
		case l.Key == "":
			return fmt.Errorf("ratelimit: limit %d has an empty key", i)
		case len(l.Key) > maxLimitKey:
			return fmt.Errorf("ratelimit: limit key %.32q… is longer than %d bytes", l.Key, maxLimitKey)
		case l.Events < 1:
			return fmt.Errorf("ratelimit: limit %s must allow at least 1 event", l)
		case l.Per < time.Millisecond:
			return fmt.Errorf("ratelimit: limit %s must span at least 1ms", l)
		}
		for _, prev := range limits[:i] {
			if prev.Key == l.Key {
				return fmt.Errorf("ratelimit: limit key %q is given twice", l.Key)
			}
		}
	}
	return nil
}

// Telegram's published limits (core.telegram.org/bots/faq): about one message per
// second to a chat, 30 per second across all of a bot's chats, and 20 per minute to a
// group.
const (
	telegramPerChat  = 1
	telegramPerBot   = 30
	telegramPerGroup = 20
)

// telegramSlack widens each window: a slot is taken when the job starts, but Telegram
// counts when the request arrives, and requests that left a window's length apart can
// arrive closer than that. 3% is enough for the jitter seen here and keeps 1,000
// messages within 35 s of the 33.3 s floor.
const telegramSlack = 3 * time.Second / 100

// TelegramLimits returns the limits one message from bot botID to chat chatID is sent
// under. Groups, supergroups and channels have negative ids and get the per-minute
// group limit on top of the per-second chat limit.
//
// Keys carry the bot's id as a Redis hash tag ({botID}) so that all of one Reserve's
// keys hash to the same Redis Cluster slot. Per-chat keys include the bot because a
// private chat's id is the user's id, the same for every bot they talk to, while
// Telegram limits each bot separately.
func TelegramLimits(botID string, chatID int64) []Limit {
	bot := "tg:{" + botID + "}"
	chat := strconv.FormatInt(chatID, 10)
	limits := []Limit{
		{Key: bot + ":chat:" + chat, Events: telegramPerChat, Per: time.Second + telegramSlack},
		{Key: bot, Events: telegramPerBot, Per: time.Second + telegramSlack},
	}
	if chatID < 0 {
		limits = append(limits, Limit{Key: bot + ":group:" + chat, Events: telegramPerGroup, Per: time.Minute + 60*telegramSlack})
	}
	return limits
}

// TelegramBotID returns the bot's id from its token ("<id>:<secret>"), the part that
// may appear in limit keys and logs. The secret never leaves this function.
func TelegramBotID(token string) string {
	id, _, _ := strings.Cut(token, ":")
	return id
}

// Messenger allows 300 Send API calls per second per page for text (fewer for audio
// and video) and "may" limit a thread sent too many messages without saying how many
// (developers.facebook.com, Messenger Platform rate limits). We stay under both with
// room: 250/s per page, and a customer gets at most one message a second, like on
// Telegram.
const (
	messengerPerPage   = 250
	messengerPerThread = 1
)

// MessengerLimits returns the limits one message from page pageID to the person with
// page-scoped id psid is sent under.
func MessengerLimits(pageID, psid string) []Limit {
	page := "fb:{" + pageID + "}"
	return []Limit{
		{Key: page + ":thread:" + psid, Events: messengerPerThread, Per: time.Second},
		{Key: page, Events: messengerPerPage, Per: time.Second},
	}
}

// ConversationLimits returns the limits one message to conv is sent under. account is
// the shop's identity on conv's platform, which the limits are counted against: the
// Telegram bot's id (TelegramBotID of the shop's token) or the Facebook page's id.
// An empty account puts every shop on that platform under one set of limits: safe, but
// slower than needed. Web chat has no platform to protect and returns no limits; so
// does a channel this package does not know.
func ConversationLimits(account string, conv *orders.Conversation) ([]Limit, error) {
	switch conv.Channel {
	case orders.ChannelTelegram:
		chatID, _, err := orders.TelegramChat(conv.ExternalID)
		if err != nil {
			return nil, &PermanentError{Reason: fmt.Sprintf("Conversation %s has Telegram chat id %q, which is not an integer.", conv.ID, conv.ExternalID)}
		}
		return TelegramLimits(account, chatID), nil
	case orders.ChannelMessenger:
		return MessengerLimits(account, conv.ExternalID), nil
	}
	return nil, nil
}

// EditLimits returns the limits an edit of a delivered message in conv is made under:
// the chat's own limit only. Telegram's 30 a second bounds messages a bot sends
// (notifications); counting edits against it too would make every paid order's card
// edit take a confirmation's place.
func EditLimits(account string, conv *orders.Conversation) ([]Limit, error) {
	limits, err := ConversationLimits(account, conv)
	if err != nil || len(limits) == 0 {
		return limits, err
	}
	return limits[:1], nil // the per-chat limit comes first
}
