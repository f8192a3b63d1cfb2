package telegramtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
)

func TestGetChatMemberStatuses(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	owner, admin, writer, lurker := s.NewUser("Olga"), s.NewUser("Abe"), s.NewUser("Wen"), s.NewUser("Lu")
	group := s.NewSupergroup("Buyers")
	require.NoError(t, s.MakeAdmin(group, owner))
	require.NoError(t, s.MakeAdmin(group, admin))
	require.NoError(t, s.MakeAdmin(group, owner), "making the creator an administrator again changes nothing")
	_, err := s.GroupSays(group, 0, writer, "hello")
	require.NoError(t, err)

	status := func(chat any, userID int64) models.ChatMemberType {
		t.Helper()
		m, err := b.GetChatMember(t.Context(), &bot.GetChatMemberParams{ChatID: chat, UserID: userID})
		require.NoError(t, err)
		return m.Type
	}
	require.Equal(t, models.ChatMemberTypeOwner, status(group, owner.ID))
	require.Equal(t, models.ChatMemberTypeAdministrator, status(group, admin.ID))
	require.Equal(t, models.ChatMemberTypeMember, status(group, writer.ID))
	require.Equal(t, models.ChatMemberTypeLeft, status(group, lurker.ID))
	require.Equal(t, models.ChatMemberTypeMember, status(group, s.BotID()), "the bot is only a member of a plain supergroup")
	require.NoError(t, s.MakeAdmin(group, telegramtest.User{ID: s.BotID()}))
	require.Equal(t, models.ChatMemberTypeAdministrator, status(group, s.BotID()))
	require.Equal(t, models.ChatMemberTypeOwner, status(group, owner.ID), "promoting the bot does not make it the creator")

	// The union decodes into the right member with its user.
	m, err := b.GetChatMember(t.Context(), &bot.GetChatMemberParams{ChatID: group, UserID: admin.ID})
	require.NoError(t, err)
	require.Equal(t, admin.ID, m.Administrator.User.ID)
	require.True(t, m.Administrator.CanDeleteMessages)
	m, err = b.GetChatMember(t.Context(), &bot.GetChatMemberParams{ChatID: group, UserID: owner.ID})
	require.NoError(t, err)
	require.Equal(t, owner.ID, m.Owner.User.ID)
	m, err = b.GetChatMember(t.Context(), &bot.GetChatMemberParams{ChatID: group, UserID: lurker.ID})
	require.NoError(t, err)
	require.Equal(t, lurker.ID, m.Left.User.ID)

	// The wire format is Telegram's: a flat object whose "status" says which.
	code, r := call(t, t.Context(), s, "getChatMember", url.Values{"chat_id": {itoa(group)}, "user_id": {itoa(owner.ID)}})
	require.Equal(t, http.StatusOK, code, r.Description)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(r.Result, &raw))
	require.Equal(t, "creator", raw["status"])
	require.Equal(t, float64(owner.ID), raw["user"].(map[string]any)["id"])
	require.Equal(t, false, raw["is_anonymous"])

	// The bot administers the staff forum, channels and discussion groups.
	forum := s.NewStaffForum("Staff")
	m, err = b.GetChatMember(t.Context(), &bot.GetChatMemberParams{ChatID: forum, UserID: s.BotID()})
	require.NoError(t, err)
	require.Equal(t, models.ChatMemberTypeAdministrator, m.Type)
	require.True(t, m.Administrator.User.IsBot)
	require.True(t, m.Administrator.CanManageTopics)
	staffer := s.NewUser("Sid")
	_, err = s.CreateTopic(forum, staffer, "Order 7")
	require.NoError(t, err)
	require.Equal(t, models.ChatMemberTypeMember, status(forum, staffer.ID), "opening a topic is writing in the forum")
	channel, discussion := s.NewChannel("News")
	require.Equal(t, models.ChatMemberTypeAdministrator, status(channel, s.BotID()))
	require.Equal(t, models.ChatMemberTypeAdministrator, status("@"+channelUsername(t, b, channel), s.BotID()))
	require.Equal(t, models.ChatMemberTypeAdministrator, status(discussion, s.BotID()))
	require.Equal(t, models.ChatMemberTypeMember, status(s.NewGroup("Basic"), s.BotID()))

	// In a private chat the user and the bot are members.
	c := s.NewCustomer("Cat")
	require.Equal(t, models.ChatMemberTypeMember, status(c.ChatID, c.ID))
	require.Equal(t, models.ChatMemberTypeMember, status(c.ChatID, s.BotID()))

	_, err = b.GetChatMember(t.Context(), &bot.GetChatMemberParams{ChatID: c.ChatID, UserID: owner.ID})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	require.ErrorContains(t, err, "Bad Request: user not found")
	_, err = b.GetChatMember(t.Context(), &bot.GetChatMemberParams{ChatID: group, UserID: 42})
	require.ErrorContains(t, err, "Bad Request: user not found")
	_, err = b.GetChatMember(t.Context(), &bot.GetChatMemberParams{ChatID: -1009999, UserID: owner.ID})
	require.ErrorIs(t, err, bot.ErrorBadRequest)
	require.ErrorContains(t, err, "Bad Request: chat not found")
	_, err = b.GetChatMember(t.Context(), &bot.GetChatMemberParams{ChatID: "@nosuchchannel", UserID: owner.ID})
	require.ErrorContains(t, err, "Bad Request: chat not found")
	code, r = call(t, t.Context(), s, "getChatMember", url.Values{"chat_id": {itoa(group)}})
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "Bad Request: invalid user_id specified", r.Description)

	require.ErrorContains(t, s.MakeAdmin(c.ChatID, owner), "not a group")
	require.ErrorContains(t, s.MakeAdmin(-1009999, owner), "not a group")
	require.ErrorContains(t, s.MakeAdmin(group, telegramtest.User{ID: 42}), "unknown user")
}

func channelUsername(t *testing.T, b *bot.Bot, channel int64) string {
	t.Helper()
	info, err := b.GetChat(t.Context(), &bot.GetChatParams{ChatID: channel})
	require.NoError(t, err)
	require.NotEmpty(t, info.Username)
	return info.Username
}

func TestGetChatLinksChannelAndDiscussion(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	channel, discussion := s.NewChannel("News")
	linked := func(chat int64) int64 {
		t.Helper()
		info, err := b.GetChat(t.Context(), &bot.GetChatParams{ChatID: chat})
		require.NoError(t, err)
		return info.LinkedChatID
	}
	require.Equal(t, discussion, linked(channel))
	require.Equal(t, channel, linked(discussion))
	require.Zero(t, linked(s.NewSupergroup("Alone")))

	// Without a link the field is absent, as in Telegram.
	code, r := call(t, t.Context(), s, "getChat", url.Values{"chat_id": {itoa(s.NewGroup("Basic"))}})
	require.Equal(t, http.StatusOK, code, r.Description)
	require.NotContains(t, string(r.Result), "linked_chat_id")
}

// rawMessages returns the "message" object of each pending update as generic
// JSON, so a test sees the field names on the wire.
func rawMessages(t *testing.T, s *telegramtest.Server) []map[string]any {
	t.Helper()
	_, r := call(t, t.Context(), s, "getUpdates", nil)
	require.True(t, r.OK, r.Description)
	var us []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(r.Result, &us))
	var out []map[string]any
	for _, u := range us {
		var m map[string]any
		if raw, ok := u["message"]; ok {
			require.NoError(t, json.Unmarshal(raw, &m))
		}
		out = append(out, m)
	}
	return out
}

func TestReplyInGroupInACommentThread(t *testing.T) {
	t.Parallel()
	s, b := newBot(t)
	buyer, seller := s.NewUser("Rae"), s.NewUser("Sol")
	channel, discussion := s.NewChannel("Shop news")
	_, thread, err := s.ChannelPost(channel, "New arrivals!")
	require.NoError(t, err)
	_, other, err := s.ChannelPost(channel, "Sale tomorrow")
	require.NoError(t, err)
	comment, err := s.GroupSays(discussion, thread.ThreadID, buyer, "Price of the red one?")
	require.NoError(t, err)
	reply, err := s.ReplyInGroup(discussion, thread.ThreadID, seller, comment.MessageID, "/price@chatpay_test_bot 120000")
	require.NoError(t, err)
	require.Equal(t, thread.ThreadID, reply.ThreadID)

	msgs := rawMessages(t, s)
	// Two channel posts (no "message"), their automatic forwards, two comments.
	require.Len(t, msgs, 6)
	got := msgs[5]
	require.Equal(t, float64(reply.MessageID), got["message_id"])
	require.Equal(t, float64(thread.ThreadID), got["message_thread_id"], "the thread is the root, not the comment replied to")
	replied := got["reply_to_message"].(map[string]any)
	require.Equal(t, float64(comment.MessageID), replied["message_id"])
	require.Equal(t, "Price of the red one?", replied["text"])
	require.Equal(t, float64(buyer.ID), replied["from"].(map[string]any)["id"])
	require.NotContains(t, got, "is_topic_message", "a comment thread is not a forum topic")
	ents := got["entities"].([]any)
	require.Equal(t, "bot_command", ents[0].(map[string]any)["type"])
	require.Equal(t, float64(len("/price@chatpay_test_bot")), ents[0].(map[string]any)["length"])
	// The plain comment replies to the thread's root.
	require.Equal(t, float64(thread.MessageID), msgs[4]["reply_to_message"].(map[string]any)["message_id"])

	// Tests find the users' comments in the thread, with what they answer.
	tm := s.ThreadMessages(discussion, thread.ThreadID)
	require.Len(t, tm, 2)
	require.Equal(t, []int{comment.MessageID, reply.MessageID}, []int{tm[0].ID, tm[1].ID})
	require.Equal(t, []int{thread.MessageID, comment.MessageID}, []int{tm[0].ReplyToID, tm[1].ReplyToID})
	require.Equal(t, seller.ID, tm[1].FromID)
	require.Equal(t, telegramtest.SenderUser, tm[1].Sender)

	// Replying to the thread's root is allowed; the bot can then answer the reply.
	_, err = s.ReplyInGroup(discussion, thread.ThreadID, buyer, thread.MessageID, "Also blue?")
	require.NoError(t, err)
	sent, err := b.SendMessage(t.Context(), &bot.SendMessageParams{ChatID: discussion, MessageThreadID: thread.ThreadID, Text: "120,000 VND",
		ReplyParameters: &models.ReplyParameters{MessageID: reply.MessageID}})
	require.NoError(t, err)
	require.Equal(t, reply.MessageID, sent.ReplyToMessage.ID)

	// The message replied to must exist and belong to the thread.
	_, err = s.ReplyInGroup(discussion, thread.ThreadID, buyer, 999, "?")
	require.ErrorContains(t, err, "no message 999")
	elsewhere, err := s.GroupSays(discussion, other.ThreadID, buyer, "When?")
	require.NoError(t, err)
	_, err = s.ReplyInGroup(discussion, thread.ThreadID, buyer, elsewhere.MessageID, "wrong thread")
	require.ErrorContains(t, err, "is in thread")
	_, err = s.ReplyInGroup(discussion, 0, buyer, comment.MessageID, "outside the thread")
	require.ErrorContains(t, err, "is in thread")
	_, err = s.ReplyInGroup(discussion, 999, buyer, comment.MessageID, "no thread")
	require.ErrorContains(t, err, "message thread not found")
	_, err = s.ReplyInGroup(channel, 0, buyer, 1, "in the channel")
	require.ErrorContains(t, err, "not a group")
	require.Len(t, s.ThreadMessages(discussion, thread.ThreadID), 4, "failed replies leave nothing behind")

	// In the main chat of a group a reply names its message and no thread.
	group := s.NewGroup("Buyers club")
	first, err := s.GroupSays(group, 0, buyer, "anyone?")
	require.NoError(t, err)
	in, err := s.ReplyInGroup(group, 0, seller, first.MessageID, "yes")
	require.NoError(t, err)
	require.Zero(t, in.ThreadID)
	m, ok := s.Message(group, in.MessageID)
	require.True(t, ok)
	require.Equal(t, first.MessageID, m.ReplyToID)
}

func TestGroupSaysAsChat(t *testing.T) {
	t.Parallel()
	s, _ := newBot(t)
	buyer := s.NewUser("Rae")
	channel, discussion := s.NewChannel("Shop news")
	_, thread, err := s.ChannelPost(channel, "New arrivals!")
	require.NoError(t, err)
	comment, err := s.GroupSays(discussion, thread.ThreadID, buyer, "Price?")
	require.NoError(t, err)
	// Confirm the setup's updates, so only what follows is pending.
	_, r := call(t, t.Context(), s, "getUpdates", url.Values{"offset": {itoa(comment.UpdateID + 1)}})
	require.True(t, r.OK, r.Description)

	anon, err := s.GroupSaysAsChat(discussion, thread.ThreadID, discussion, comment.MessageID, "/paid 1001")
	require.NoError(t, err)
	asChannel, err := s.GroupSaysAsChat(discussion, thread.ThreadID, channel, 0, "Thanks for the comments")
	require.NoError(t, err)
	group := s.NewSupergroup("Buyers")
	plain, err := s.GroupSaysAsChat(group, 0, group, 0, "Rules")
	require.NoError(t, err)

	_, r = call(t, t.Context(), s, "getUpdates", nil)
	us := updates(t, r)
	require.Len(t, us, 3)
	require.Equal(t, []int64{anon.UpdateID, asChannel.UpdateID, plain.UpdateID}, []int64{us[0].ID, us[1].ID, us[2].ID})

	a := us[0].Message
	require.Equal(t, int64(1087968824), a.From.ID)
	require.Equal(t, "Group", a.From.FirstName)
	require.True(t, a.From.IsBot)
	require.Equal(t, discussion, a.SenderChat.ID)
	require.Equal(t, thread.ThreadID, a.MessageThreadID)
	require.Equal(t, comment.MessageID, a.ReplyToMessage.ID)
	require.Equal(t, models.MessageEntityTypeBotCommand, a.Entities[0].Type)

	c := us[1].Message
	require.Equal(t, int64(136817688), c.From.ID)
	require.Equal(t, "Channel", c.From.FirstName)
	require.Equal(t, channel, c.SenderChat.ID)
	require.Equal(t, models.ChatTypeChannel, c.SenderChat.Type)
	require.False(t, c.IsAutomaticForward)
	require.Equal(t, thread.MessageID, c.ReplyToMessage.ID, "without a reply of its own a comment answers the root")

	p := us[2].Message
	require.Equal(t, group, p.SenderChat.ID)
	require.Zero(t, p.MessageThreadID)
	require.Nil(t, p.ReplyToMessage)

	tm := s.ThreadMessages(discussion, thread.ThreadID)
	require.Len(t, tm, 3)
	require.Equal(t, telegramtest.SenderAnonymousAdmin, tm[1].Sender)
	require.Equal(t, discussion, tm[1].SenderChatID)
	require.Equal(t, comment.MessageID, tm[1].ReplyToID)
	require.Equal(t, telegramtest.SenderChannel, tm[2].Sender)
	require.Equal(t, channel, tm[2].SenderChatID)

	// Only the group itself or its linked channel may write as a chat.
	otherChannel, _ := s.NewChannel("Other")
	_, err = s.GroupSaysAsChat(discussion, 0, otherChannel, 0, "x")
	require.ErrorContains(t, err, "as the group itself or its linked channel")
	_, err = s.GroupSaysAsChat(group, 0, channel, 0, "x")
	require.ErrorContains(t, err, "as the group itself or its linked channel")
	_, err = s.GroupSaysAsChat(discussion, 0, 0, 0, "x")
	require.ErrorContains(t, err, "as the group itself or its linked channel")
	_, err = s.GroupSaysAsChat(channel, 0, channel, 0, "x")
	require.ErrorContains(t, err, "not a group")
	_, err = s.GroupSaysAsChat(-1009999, 0, -1009999, 0, "x")
	require.ErrorContains(t, err, "not a group")
	_, err = s.GroupSaysAsChat(discussion, thread.ThreadID, discussion, 999, "x")
	require.ErrorContains(t, err, "no message 999")
	require.Equal(t, 3, s.PendingUpdates(), "failed writes queue nothing")
}
