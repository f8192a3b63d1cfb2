// Package messenger is chatpay's Facebook Messenger adapter at its lowest
// level: a Graph API client for one page (Send, SendUtility, PrivateReply),
// the mapping of Meta's errors onto bot.PermanentError, bot.RateLimitedError
// and retryable errors (errors.go), and webhook handling: the verification
// handshake, the X-Hub-Signature-256 check and the parsing of deliveries into
// flat events (webhook.go).
//
// # What the wire format rests on
//
// Checked against Meta's documentation (read 2026):
//
//   - Send API: POST /{PAGE-ID}/messages with recipient, messaging_type
//     (RESPONSE, UPDATE, MESSAGE_TAG; the Graph reference also lists UTILITY)
//     and message; the answer is {"recipient_id", "message_id"}; the token is
//     passed as access_token.
//     https://developers.facebook.com/docs/messenger-platform/reference/send-api
//     https://developers.facebook.com/docs/graph-api/reference/page/messages
//   - Button template: attachment {type: template, payload: {template_type:
//     button, text (UTF-8, up to 640 characters), buttons (1 to 3)}}; a URL
//     button is {type: web_url, url, title}, a postback button {type:
//     postback, title (20 characters), payload (1000 characters)}.
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/send-messages/template/button
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/send-messages/buttons/postback
//   - Utility messages: POST /{PAGE_ID}/messages with recipient.id and
//     message.template {name, language: {code}, components: [{type: header |
//     body, parameters: [{type: text, text, parameter_name (NAMED templates
//     only)}]}]}; the examples send no messaging_type, and neither do we.
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/send-messages/utility-messages
//   - Private replies: the same endpoint with recipient {comment_id} (or
//     post_id); one reply per comment, within 7 days; every messaging type is
//     allowed. Error 10900 "Activity already replied to" and 10903 "This user
//     cant reply to this activity" are listed on the page/messages reference.
//     https://developers.facebook.com/docs/messenger-platform/discovery/private-replies
//   - appsecret_proof: hex HMAC-SHA256 of the access token keyed with the app
//     secret, sent as a parameter next to the token (the page's text as quoted
//     by SDKs that implement it; the part we could read does not show it).
//     https://developers.facebook.com/docs/graph-api/guides/secure-requests
//   - Errors: {"error": {message, type, code, error_subcode, fbtrace_id}};
//     codes 1 and 2 are temporary, 4 and 17 throttling, 10 and 200–299
//     permissions, 190 an expired token (102 an expired session), 341 an
//     application limit, 368 a policy block. The page/messages reference lists
//     551 "This person isn't available right now", 613 the rate limit and 230
//     "Permissions disallow message to user".
//     https://developers.facebook.com/docs/graph-api/guides/error-handling
//     https://developers.facebook.com/docs/messenger-platform/error-codes
//   - Rate limits: throttling codes 4 (application), 17 (account), 32 (page)
//     and 613 (custom); requests with a page access token count under Business
//     Use Case limits. The code table was read in a copy of that page; the
//     X-Business-Use-Case-Usage header and its estimated_time_to_regain_access
//     (minutes) are from memory of it, not re-read. Meta sends no retry_after.
//     https://developers.facebook.com/docs/graph-api/overview/rate-limiting
//   - Webhooks: the GET verification carries hub.mode=subscribe,
//     hub.verify_token and hub.challenge (an int to echo back), as read;
//     deliveries are signed with HMAC-SHA256 of the raw body in
//     X-Hub-Signature-256 as "sha256=<hex>" (the older SHA-1 wording of the
//     page was read, the SHA-256 one through integrators' descriptions).
//     https://developers.facebook.com/docs/graph-api/webhooks/getting-started
//   - messages: entry[].messaging[] items {sender.id (PSID), recipient.id
//     (page), timestamp (ms), message {mid, text, quick_reply.payload,
//     attachments}}.
//     https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
//   - messaging_postbacks: {postback {mid, title, payload, referral}}; the
//     example uses the field/value form and a string timestamp in seconds,
//     which ParseWebhook accepts as well.
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_postbacks
//   - message_echoes: sender is the page, recipient the PSID, message
//     {is_echo: true, app_id (a number), metadata, mid}.
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-echoes
//   - Page feed comments: changes[] with field "feed" and value {item:
//     comment, verb, comment_id, post_id, parent_id, created_time (seconds),
//     message, from {id, name}} (the field list of the Page webhooks
//     reference, as given for group_feed).
//     https://developers.facebook.com/docs/graph-api/webhooks/reference/page
//
// # What is assumed
//
//   - The subcodes 2018278 (outside the 24-hour window), 1545041, 2018001 and
//     2018108 (person unavailable) and the code 80006 (Messenger rate limit)
//     come from the error codes page's table and common use; the part of that
//     page we could read shows only its first rows.
//   - Without a usage header, a throttled send waits DefaultThrottleWait (one
//     minute); Meta documents no figure.
//   - Text limits are counted in runes: 2000 for a text message, 640 above
//     buttons, 20 for a button title. Meta says "characters".
//   - Page and app ids must be digits, as all of Meta's are; a PSID is passed
//     on as given (short, printable) and Meta judges it.
//   - A feed comment is reported only for verb "add"; edits and removals are
//     skipped. Items in entry[].standby (threads another app owns) are skipped.
package messenger
