package telegram_test

import (
	"net/http"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/stretchr/testify/require"

	"github.com/chatpay/chatpay/bot"
	"github.com/chatpay/chatpay/bot/telegram"
	"github.com/chatpay/chatpay/bot/telegram/telegramtest"
)

func TestIsAdmin(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	owner, admin, writer, lurker := srv.NewUser("Olga"), srv.NewUser("Abe"), srv.NewUser("Wen"), srv.NewUser("Lu")
	channel, discussion := srv.NewChannel("Shop news")
	require.NoError(t, srv.MakeAdmin(discussion, owner))
	require.NoError(t, srv.MakeAdmin(discussion, admin))
	_, err := srv.GroupSays(discussion, 0, writer, "hi")
	require.NoError(t, err)

	for _, tc := range []struct {
		chat int64
		user int64
		want bool
	}{
		{discussion, owner.ID, true},
		{discussion, admin.ID, true},
		{discussion, writer.ID, false},
		{discussion, lurker.ID, false},
		{discussion, srv.BotID(), true},
		{channel, srv.BotID(), true},
		{channel, owner.ID, false},
		{srv.NewGroup("Basic"), srv.BotID(), false},
	} {
		got, err := c.IsAdmin(t.Context(), tc.chat, tc.user)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "chat %d user %d", tc.chat, tc.user)
	}
}

func TestIsAdminErrors(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	group := srv.NewSupergroup("Buyers")
	u := srv.NewUser("Pat")

	// Asking again gets the same answer: permanent, with a reason for people.
	for _, tc := range []struct {
		chat, user int64
		reason     string
	}{
		{-100999999999, u.ID, "Telegram does not know this chat."},
		{group, 42, "Telegram does not know this user."},
	} {
		ok, err := c.IsAdmin(t.Context(), tc.chat, tc.user)
		require.False(t, ok)
		require.True(t, bot.IsPermanent(err), "%v", err)
		var p *bot.PermanentError
		require.ErrorAs(t, err, &p)
		require.Equal(t, tc.reason, p.Reason)
		require.ErrorIs(t, err, tg.ErrorBadRequest)
		var te *telegram.Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, "getChatMember", te.Method)
		require.Equal(t, http.StatusBadRequest, te.Code)
		requireNoToken(t, srv, err)
	}

	srv.FailNext("getChatMember", 1, telegramtest.ServerError(http.StatusBadGateway, ""))
	_, err := c.IsAdmin(t.Context(), group, u.ID)
	require.False(t, bot.IsPermanent(err))
	var te *telegram.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, http.StatusBadGateway, te.Code)
	requireNoToken(t, srv, err)

	srv.FailNext("getChatMember", 1, telegramtest.TooManyRequests(3))
	_, err = c.IsAdmin(t.Context(), group, u.ID)
	d, ok := telegram.RetryAfter(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 3*time.Second, d)
	requireNoToken(t, srv, err)

	ok, err = c.IsAdmin(t.Context(), group, u.ID)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestLinkedChat(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	channel, discussion := srv.NewChannel("Shop news")

	got, err := c.LinkedChat(t.Context(), channel)
	require.NoError(t, err)
	require.Equal(t, discussion, got)
	got, err = c.LinkedChat(t.Context(), discussion)
	require.NoError(t, err)
	require.Equal(t, channel, got)
	got, err = c.LinkedChat(t.Context(), srv.NewSupergroup("Alone"))
	require.NoError(t, err)
	require.Zero(t, got)

	_, err = c.LinkedChat(t.Context(), -100999999999)
	require.True(t, bot.IsPermanent(err), "%v", err)
	var te *telegram.Error
	require.ErrorAs(t, err, &te)
	require.Equal(t, "getChat", te.Method)
	requireNoToken(t, srv, err)

	srv.FailNext("getChat", 1, telegramtest.ServerError(http.StatusInternalServerError, ""))
	_, err = c.LinkedChat(t.Context(), channel)
	require.False(t, bot.IsPermanent(err))
	requireNoToken(t, srv, err)
}
