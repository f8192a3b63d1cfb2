package messengertest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger/messengertest"
)

func privateReply(commentID, text string) map[string]any {
	return map[string]any{
		"recipient":      map[string]any{"comment_id": commentID},
		"messaging_type": "RESPONSE",
		"message":        map[string]any{"text": text},
	}
}

func TestPrivateReplyOpensAConversation(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	post := s.Post("New dresses")
	c, err := s.Comment(post, "Ann", "price?")
	require.NoError(t, err)
	_, open := s.Conversation(c.UserID)
	require.False(t, open)

	r := postJSON(t, s, privateReply(c.CommentID, "350k, want one?"))
	require.Equal(t, 200, r.Status, "%+v", r.Error)
	ann, _ := s.Customer("Ann")
	require.Equal(t, ann.PSID, r.RecipientID, "the answer reveals the commenter's PSID")

	pr, ok := s.PrivateReplyTo(c.CommentID)
	require.True(t, ok)
	require.Equal(t, messengertest.PrivateReply{
		CommentID: c.CommentID, PostID: post, PSID: ann.PSID, UserID: ann.UserID, MID: r.MessageID, At: start,
	}, pr)
	require.Equal(t, []messengertest.PrivateReply{pr}, s.PrivateReplies())
	require.Equal(t, c.CommentID, s.Sent(ann.PSID)[0].CommentID)

	conv, ok := s.Conversation(ann.PSID)
	require.True(t, ok)
	require.True(t, conv.LastInteraction.IsZero())
	require.False(t, conv.WindowOpen)

	// Only one private reply per comment.
	requireError(t, postJSON(t, s, privateReply(c.CommentID, "hello again")), 400, 10900, 0, "Activity already replied to")
	// The comment did not open the standard window...
	requireError(t, postJSON(t, s, textTo(ann.PSID, "still there?")), 400, 10, 2018278, "outside of allowed window")
	// ...the customer's reply in Messenger does.
	d, err := s.CustomerSays(ann.PSID, "yes, size M")
	require.NoError(t, err)
	require.Equal(t, ann.PSID, d.PSID)
	require.Equal(t, 200, postJSON(t, s, textTo(ann.PSID, "great")).Status)
}

func TestPrivateReplyLimits(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	post := s.Post("sale")

	own, err := s.PageComments(post, "DM us")
	require.NoError(t, err)
	requireError(t, postJSON(t, s, privateReply(own.CommentID, "x")), 400, 10903, 0, "cant reply")

	requireError(t, postJSON(t, s, privateReply("1_2", "x")), 400, 100, 2018292, "Invalid comment_id")

	old, err := s.Comment(post, "Ann", "how much?")
	require.NoError(t, err)
	s.Advance(7*24*time.Hour + time.Minute)
	requireError(t, postJSON(t, s, privateReply(old.CommentID, "sorry, late")), 400, 10903, 0, "cant reply")

	// Within 7 days a reply to a reply is allowed, and a blocked commenter
	// cannot be reached.
	fresh, err := s.ReplyToComment(old.CommentID, "Bo", "me too")
	require.NoError(t, err)
	bo, _ := s.Customer("Bo")
	s.Block(bo.PSID)
	requireError(t, postJSON(t, s, privateReply(fresh.CommentID, "hi Bo")), 400, 551, 1545041, "isn't available")
	s.Unblock(bo.PSID)
	require.Equal(t, 200, postJSON(t, s, privateReply(fresh.CommentID, "hi Bo")).Status)

	both := privateReply(fresh.CommentID, "x")
	both["recipient"] = map[string]any{"comment_id": fresh.CommentID, "id": bo.PSID}
	requireError(t, postJSON(t, s, both), 400, 100, 0, "exactly one of")
}

// TestCommenterWhoAlreadyWrote covers a customer known from Messenger who
// then comments: the private reply goes to the same PSID.
func TestCommenterWhoAlreadyWrote(t *testing.T) {
	t.Parallel()
	s, _ := newPair(t)
	d, err := s.CustomerSays("Ann", "hi")
	require.NoError(t, err)
	post := s.Post("sale")
	c, err := s.Comment(post, d.PSID, "this one please")
	require.NoError(t, err)
	r := postJSON(t, s, privateReply(c.CommentID, "on it"))
	require.Equal(t, 200, r.Status)
	require.Equal(t, d.PSID, r.RecipientID)
	require.Len(t, s.Conversations(), 1)
}
