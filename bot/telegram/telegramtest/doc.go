// Package telegramtest is an in-process emulator of the Telegram Bot API for
// chatpay's tests.
//
// New starts an httptest.Server that answers POST {URL}/bot{token}/{method} the
// way api.telegram.org does: it accepts multipart/form-data (including chunked
// bodies without a Content-Length, which is how github.com/go-telegram/bot sends
// every request), application/x-www-form-urlencoded, application/json and query
// parameters; nested objects such as reply_markup arrive as JSON-encoded fields.
// It answers {"ok":true,"result":...} with values of the library's models types,
// so the JSON is exactly what the client decodes, or
// {"ok":false,"error_code":N,"description":"...","parameters":{...}} with
// Telegram's descriptions.
//
// What it emulates:
//   - the bot itself (getMe), private chats with customers, a forum supergroup
//     for staff with topics, ordinary groups, channels with a discussion group
//     (linked to each other, as getChat's linked_chat_id reports);
//   - business connections with their business chats;
//   - who administers a group or channel: MakeAdmin makes a user its creator
//     (the first one) or an administrator; the bot administers the staff
//     forum, channels and their discussion groups and is a member elsewhere;
//     users who wrote in a group are members, other known users have "left";
//   - helpers that make users act (write text, /start with a payload, press an
//     inline button, connect a business account, write in a business chat,
//     comment in a thread, reply to a given message, write anonymously as a
//     group's administrator or as its linked channel), each producing the
//     update Telegram would produce;
//   - the methods a bot that sells in chat needs: getMe, sendMessage,
//     editMessageText, editMessageReplyMarkup, deleteMessage,
//     answerCallbackQuery, createForumTopic, editForumTopic, deleteForumTopic,
//     copyMessage, forwardMessage, getBusinessConnection, getChat,
//     getChatMember, setWebhook, deleteWebhook, getWebhookInfo and getUpdates;
//   - getUpdates with offset confirmation, limit, long polling, allowed_updates,
//     409 Conflict while a webhook is set or when a newer getUpdates takes over;
//   - webhook delivery, one update at a time in order, retried until 2xx;
//   - the business rule that a bot may only write in a business chat whose
//     customer wrote within the last 24 hours, on an injectable clock;
//   - fault injection (429 with retry_after, 5xx, timeouts) and optional rate
//     limits like Telegram's, with counters a benchmark can assert on.
//
// What it does not emulate: media and file uploads or downloads (file parts are
// read and dropped; sendPhoto and the other methods not listed above answer
// 404 like unknown methods), deleting business messages
// (deleteBusinessMessages), inline mode, payments, games, polls, stickers, chat
// administration (promoting, restricting or banning through the API, the
// "restricted" and "kicked" statuses, administrators' individual rights,
// joining and leaving, chat_member updates), message entities parsing
// (parse_mode is checked for a known value and stored, not rendered), the
// MTProto side of Telegram, HTTPS-only webhook URLs (plain http is accepted so
// tests can use httptest) and the webhook's "method in the response body"
// shortcut.
//
// State a test can read: every message per chat and per thread with its current
// text, buttons, edit history, deletion, sender, sender chat and the message it
// replies to (Messages, ThreadMessages, BusinessMessages, Message), topics
// (Topics), callback queries answered and unanswered, the sends per chat with
// their times (Sends, SendLog), webhook deliveries, and the number of 429s
// returned (TooManyRequests).
package telegramtest
