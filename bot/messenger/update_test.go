package messenger_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot/messenger"
)

func TestUpdates(t *testing.T) {
	t.Parallel()
	ups, err := messenger.Platform{}.Updates([]byte(textMessage))
	require.NoError(t, err)
	require.Len(t, ups, 1)
	ev, err := messenger.DecodeUpdate(ups[0].Payload)
	require.NoError(t, err)
	require.Equal(t, ev.Mid, ups[0].Key)
	require.Equal(t, ev.PSID, ups[0].Chat)
	require.Equal(t, ev.PSID, messenger.ChatOfUpdate(ups[0].Payload))

	ups, err = messenger.Platform{}.Updates([]byte(feedComment))
	require.NoError(t, err)
	require.Len(t, ups, 1)
	ev, err = messenger.DecodeUpdate(ups[0].Payload)
	require.NoError(t, err)
	require.Equal(t, "comment:"+ev.CommentID, ups[0].Key)
	require.Equal(t, "post:"+ev.PostID, ups[0].Chat)

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
		ups, err := messenger.Platform{}.Updates(body)
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
