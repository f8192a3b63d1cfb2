// Package messengertest is an in-process emulator of the parts of Meta's
// Graph API (Messenger Platform) that a shop's sales bot uses, for chatpay's
// tests.
//
// New starts an httptest.Server that stands in for https://graph.facebook.com
// and answers POST /{version}/me/messages and POST /{version}/{page-id}/messages
// (the Send API). It reads JSON bodies and form-encoded bodies whose object
// fields are JSON text, and query parameters; access_token may come from the
// query, the body or an "Authorization: Bearer" header. Actors (CustomerSays,
// Postback, PageInboxSays, Comment, PageComments, Batch, …) make things happen
// on Facebook and POST the signed webhooks Meta would send to the URL given
// with WithWebhook or SetWebhook, returning the ids they made up and the
// status chatpay answered.
//
// What it emulates:
//   - the Send API: text messages, button templates with web_url and postback
//     buttons, utility template messages, sender actions, private replies to
//     comments (recipient.comment_id), messaging_type RESPONSE, UPDATE,
//     MESSAGE_TAG (HUMAN_AGENT for 7 days; ACCOUNT_UPDATE,
//     CONFIRMED_EVENT_UPDATE and POST_PURCHASE_UPDATE at any time) and
//     UTILITY; answers {"recipient_id":…,"message_id":"m_…"};
//   - Meta's limits: text ≤ 2000 characters, button template text ≤ 640,
//     1–3 buttons, button title ≤ 20, postback payload ≤ 1000;
//   - the 24-hour standard messaging window per customer from their last
//     message or postback; UTILITY templates outside it; "No matching user
//     found" for a PSID with no conversation; error 551 for a customer who
//     blocked the Page (Block);
//   - private replies: one per comment, within 7 days of it, never to the
//     Page's own comments; the reply opens a conversation (Conversation) and
//     the answer's recipient_id is the commenter's PSID;
//   - webhooks signed with X-Hub-Signature-256 (and the older
//     X-Hub-Signature), bodies escaped as Meta escapes them, one entry per
//     event (Batch puts several in one POST), re-delivery of exact bytes
//     (Deliver), bad signatures (DeliverWithSignature) and the GET
//     verification handshake (Verify);
//   - echoes of chatpay's own sends (WithEchoes, delivered in order in the
//     background; WaitEchoes) and of Page inbox messages (PageInboxSays);
//   - access_token (code 190 when wrong, 104 when missing), appsecret_proof
//     (checked when given, required with WithRequireAppSecretProof);
//   - faults (FailNext): throttling (613, 4), 5xx, timeouts, optionally after
//     the message was sent (Fault.Apply), with counters (Stats).
//
// What it does not emulate: media attachments, quick replies, generic and
// other templates, phone_number and other button types, user_ref and
// phone_number recipients, private replies to visitor posts (post_id), the
// Conversations API (GET …/messages), message reads, deliveries, reactions,
// referrals, handover or conversation routing, the feed change for the
// Page's own posts, HTTPS-only webhooks, Meta's retries of failed webhook
// deliveries, rate limits that arise on their own, and the
// message_template_status_update flow (ApproveTemplate registers a template
// as approved at once). Requests for those answer code 100 with a message
// that starts "messengertest:" and ends "is not emulated", so a test never
// mistakes it for Meta's answer.
//
// Identifiers. A customer has a PSID (Page-scoped id, used by messaging
// webhooks and the Send API) and a different UserID, which is what Page feed
// webhooks put in from.id: the feed id is app- or Page-scoped per Meta's
// privacy rules and is not a PSID. chatpay cannot turn one into the other;
// it learns a commenter's PSID when the Send API answers a private reply to
// their comment (recipient_id), and PrivateReplyTo and Conversation show the
// same PSID to the test. The emulator knows it is the same person because
// Comment and CustomerSays name customers by name or PSID.
//
// Verified against Meta's documentation (stored copies of these pages):
//   - Send API request and response shape, recipient.id, messaging_type, the
//     form-encoded sample with JSON-ish fields in single quotes:
//     https://developers.facebook.com/docs/messenger-platform/reference/send-api
//   - button template: text up to 640 characters, 1–3 buttons:
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/send-messages/template/button
//   - button title 20 characters, postback payload 1000 characters:
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/send-messages/buttons/postback
//     and …/send-messages/buttons/url
//   - utility messages: message.template {name, language {code}, components
//     [{type: body, parameters: [{type: text, text}]}]}, messaging_type
//     UTILITY (one sample omits it, one puts template at the top level), the
//     "m_…" message id in the answer:
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/send-messages/utility-messages
//   - private replies: recipient.comment_id on /PAGE-ID/messages, one
//     message per comment, within 7 days, the comment does not open the
//     24-hour window and the person's reply does:
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/discovery/private-replies
//     and https://developers.facebook.com/docs/messenger-platform/discovery/private-replies/
//     ("you can not reply to your own comments":
//     https://developers.facebook.com/docs/pages/guides/messaging/)
//   - error envelope {"error":{message,type,code,error_subcode,fbtrace_id}},
//     190 "Invalid OAuth access token.", code 10 subcode 2018278 for the
//     window, 4 and 613 for rate limits:
//     https://developers.facebook.com/docs/messenger-platform/error-codes and
//     https://developers.facebook.com/docs/messenger-platform/reference/send-api/error-codes
//   - webhook events: messages (mid, text), messaging_postbacks (mid, title,
//     payload), message_echoes (is_echo, app_id as a number, metadata, mid;
//     sender the Page, recipient the PSID):
//     https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_postbacks
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-echoes
//   - feed change fields for comments (from {id, name}, comment_id, post_id,
//     parent_id, created_time, item, verb, message):
//     https://developers.facebook.com/docs/graph-api/webhooks/reference/page/
//   - verification handshake (hub.mode, hub.verify_token, hub.challenge) and
//     signatures over the escaped-unicode payload with lower-case hex:
//     https://developers.facebook.com/docs/graph-api/webhooks/getting-started/
//
// Assumed (from captured responses in public code and reports, not Meta's
// docs), and worth checking against the live API:
//   - exact error texts: "(#100) No matching user found" subcode 2018001;
//     "(#551) This person isn't available right now." (subcode 1545041);
//     "(#10900) Activity already replied to" for a second private reply and
//     "(#10903) This user cant reply to this activity" for the Page's own
//     comment or one older than 7 days; "(#100) Invalid comment_id
//     parameter" subcode 2018292 for an unknown comment; "(#100) Length of
//     param message[text] must be less than or equal to 2000"; "(#105) param
//     name_placeholder[buttons] has too many elements." (code 105, not 100,
//     as captured from Meta); the wording of the 640 and 20 character errors
//     and of template errors, which follow the same pattern;
//   - "Invalid appsecret_proof provided in the API argument" (code 100,
//     GraphMethodException); 104 for a missing token; 2500 "Unknown path
//     components" for other paths and 100/33 for another Page's node; the
//     WWW-Authenticate header on OAuth errors; HTTP 400 for rate limits;
//     code 2 for 5xx; the webhook User-Agent "facebookexternalua";
//   - a missing messaging_type means RESPONSE (UTILITY for a template);
//     UTILITY requires a template and a template requires UTILITY; an
//     unapproved template or a wrong number of body parameters is code 100;
//     HUMAN_AGENT outside 7 days answers like the 24-hour window;
//   - the Page inbox app id 263902037430900 (Meta's handover documentation
//     and sample apps); echoes of templates as template attachments;
//   - entry.time in milliseconds for messaging and in seconds for feed
//     changes; the post object and field order inside feed changes, copied
//     from a delivered payload; a top-level comment's parent_id is the post;
//   - "/" escaped as "\/" in webhook bodies, as Meta's samples show.
//
// State a test can read: messages accepted per PSID (Sent, AllSent) with text,
// buttons, messaging type, tag, template and time; private replies per
// comment (PrivateReplyTo, PrivateReplies); conversations with both sides'
// lines and whether the window is open (Conversation, Conversations); every
// webhook POST with its body, signature and chatpay's answer (Deliveries);
// and the Send API's counters (Stats).
package messengertest
