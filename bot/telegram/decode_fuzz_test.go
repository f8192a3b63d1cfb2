package telegram

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeUpdates(t *testing.T) {
	t.Parallel()
	ups, err := decodeUpdates(http.StatusOK, []byte(`{"ok":true,"result":[{"update_id":5,"message":{"text":"a"}},{"update_id":6}]}`))
	require.NoError(t, err)
	require.Len(t, ups, 2)
	require.Equal(t, int64(5), ups[0].ID)
	require.JSONEq(t, `{"update_id":5,"message":{"text":"a"}}`, string(ups[0].JSON))

	_, err = decodeUpdates(http.StatusOK, []byte(`{"ok":true,"result":[{"message":{}}]}`))
	require.ErrorContains(t, err, "no update_id")

	// A proxy's HTML page keeps its status, so a 502 stays transient.
	_, err = decodeUpdates(http.StatusBadGateway, []byte(`<html>Bad Gateway</html>`))
	require.ErrorContains(t, err, "502")

	_, err = decodeUpdates(http.StatusTooManyRequests, []byte(`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 9","parameters":{"retry_after":9}}`))
	d, ok := RetryAfter(err)
	require.True(t, ok)
	require.Equal(t, int64(9), int64(d.Seconds()))
}

func FuzzDecodeUpdates(f *testing.F) {
	f.Add(200, []byte(`{"ok":true,"result":[]}`))
	f.Add(200, []byte(`{"ok":true,"result":[{"update_id":500000001,"message":{"message_id":1,"text":"hi"}}]}`))
	f.Add(200, []byte(`{"ok":true,"result":[{"update_id":-1},{"update_id":1e3}]}`))
	f.Add(409, []byte(`{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request"}`))
	f.Add(429, []byte(`{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":3}}`))
	f.Add(400, []byte(`{"ok":false,"error_code":400,"description":"Bad Request","parameters":{"migrate_to_chat_id":-1001}}`))
	f.Add(502, []byte(`<html>502</html>`))
	f.Add(200, []byte(`{"ok":true,"result":null}`))
	f.Fuzz(func(t *testing.T, status int, data []byte) {
		ups, err := decodeUpdates(status, data)
		if err != nil {
			require.Nil(t, ups)
			return
		}
		for _, u := range ups {
			require.True(t, json.Valid(u.JSON), "%q", u.JSON)
			var head struct {
				ID int64 `json:"update_id"`
			}
			require.NoError(t, json.Unmarshal(u.JSON, &head))
			require.Equal(t, u.ID, head.ID)
		}
	})
}
