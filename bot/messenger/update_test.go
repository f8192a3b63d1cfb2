package messenger_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger"
)

func TestUpdates(t *testing.T) {
	t.Parallel()
	ups, err := messenger.Platform{}.Updates([]byte(textMessage), pageOf(t, textMessage))
	require.NoError(t, err)
	require.Len(t, ups, 1)
	ev, err := messenger.DecodeUpdate(ups[0].Payload)
	require.NoError(t, err)
	require.Equal(t, ev.Mid, ups[0].Key)
	require.Equal(t, ev.PSID, ups[0].Chat)
	require.Equal(t, ev.PSID, messenger.ChatOfUpdate(ups[0].Payload))

	ups, err = messenger.Platform{}.Updates([]byte(feedComment), pageOf(t, feedComment))
	require.NoError(t, err)
	require.Len(t, ups, 1)
	ev, err = messenger.DecodeUpdate(ups[0].Payload)
	require.NoError(t, err)
	require.Equal(t, "comment:"+ev.CommentID, ups[0].Key)
	require.Equal(t, "post:"+ev.PostID, ups[0].Chat)

	other, err := messenger.Platform{}.Updates([]byte(textMessage), "999")
	require.NoError(t, err)
	require.Empty(t, other, "another page's events are not recorded")

	_, err = messenger.DecodeUpdate([]byte(`{"object":"page","entry":[]}`))
	require.Error(t, err, "a recorded update holds exactly one event")
}

// FuzzUpdates: whatever a delivery holds, each update recorded from it reads back as
// exactly its one event, under the key it was recorded with.
func FuzzUpdates(f *testing.F) {
	for _, seed := range []string{textMessage, feedComment, signedBody, `{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"message":{"mid":"m1","text":"a"}},{"sender":{"id":"3"},"message":{"mid":"m2","text":"b"}}]}]}`, `{`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := messenger.ParseWebhook(body)
		if err != nil || len(events) == 0 {
			return
		}
		ups, err := messenger.Platform{}.Updates(body, events[0].PageID)
		if err != nil {
			return
		}
		for _, u := range ups {
			require.NotEmpty(t, u.Key)
			ev, err := messenger.DecodeUpdate(u.Payload)
			require.NoError(t, err, "%s", u.Payload)
			key := ev.Mid
			if ev.Kind == messenger.KindComment {
				key = "comment:" + ev.CommentID
			}
			require.Equal(t, u.Key, key)
		}
	})
}

// pageOf is the page id of a delivery's first event.
func pageOf(t *testing.T, body string) string {
	t.Helper()
	events, err := messenger.ParseWebhook([]byte(body))
	require.NoError(t, err)
	require.NotEmpty(t, events)
	return events[0].PageID
}
