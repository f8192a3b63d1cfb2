// Package omise is chatpay's Opn Payments (formerly Omise) gateway: a small typed REST
// client for api.omise.co (Client), local checks of Omise's refund and dispute rules made
// before calling, webhook signature verification and event parsing, and a gateway.Gateway
// (Gateway) built on them. Package omisetest emulates the API for tests.
//
// No Go client is used: github.com/omise/omise-go is not a dependency of chatpay, and the
// few endpoints chatpay needs are simpler to own than to vendor.
//
// # What was checked against Omise/Opn documentation
//
//   - Base URL https://api.omise.co, HTTP Basic auth with the secret key as user and an
//     empty password, form-encoded bodies (metadata as metadata[key]=value): the curl
//     examples of https://www.omise.co/charges-api and docs.omise.co; omise-go's client.go
//     sets the same (SetBasicAuth(secretKey, "")).
//   - Omise-Version header, latest version 2019-05-29 (pinned as APIVersion):
//     https://docs.omise.co/api-versioning. Webhook bodies are serialised in the account's
//     default version, whatever header the triggering request carried (same page and
//     https://docs.omise.co/api-webhooks), which is one more reason to re-fetch.
//   - Charges: POST /charges (amount, currency, return_uri, metadata, card or source,
//     capture), GET /charges/{id}, POST /charges/{id}/capture, POST /charges/{id}/reverse;
//     attributes status, authorize_uri, authorized, capturable, captured_amount,
//     refunded_amount, dispute, created_at: https://www.omise.co/charges-api; endpoint paths
//     also in omise-go operations/charge.go.
//   - Single partial capture with authorization_type=pre_auth (Thailand merchants only),
//     multiple partial captures unsupported: https://docs.omise.co/capture.
//   - Refunds: POST/GET /charges/{id}/refunds (amount, metadata); refundable only when
//     undisputed, captured, fewer than 15 refunds, and captured no longer than 365 days
//     ago: https://docs.omise.co/refunds-api and https://docs.omise.co/refunding-charges.
//   - Sources: POST /sources (type, amount, currency); PromptPay is an offline flow whose
//     QR is source.scannable_code.image.download_uri: https://docs.omise.co/promptpay and
//     omise-go operations/source.go (which sends it with the public key).
//   - Disputes: GET /disputes[/open|/pending|/closed], GET /disputes/{id}, PATCH
//     /disputes/{id} (message); statuses open, pending, won, lost:
//     https://www.omise.co/disputes-api, omise-go operations/dispute.go.
//   - Dispute documents: POST /disputes/{id}/documents, multipart field "file", PNG, JPG
//     or PDF, only on an open dispute, at most 10 MB: https://docs.omise.co/documents-api.
//   - Error object {"object":"error","location","code","message"} with the HTTP status:
//     omise-go error.go.
//
// # What is assumed
//
//   - Webhook signatures. docs.omise.co/api-webhooks recommends signature verification
//     but the stored copy is cut before the details; the scheme implemented (hex
//     HMAC-SHA256 keyed with the base64-decoded webhook secret over
//     "<Omise-Signature-Timestamp>.<raw body>", two comma-separated signatures during a
//     secret rotation) is chatpay's spec, matching a third-party integration write-up
//     (tinadiet-docs.pages.dev/documentation/payments/webhook-signature). The 300 s
//     tolerance is chatpay's choice.
//   - POST /disputes/{id}/accept (AcceptDispute): seen only in an unofficial mirror of the
//     API reference, not in the official pages we could read.
//   - Idempotency-Key header: documented only by that unofficial mirror. The client sends
//     it on refunds, but Gateway.Refund does not rely on it: it also records the key in
//     the refund's metadata and looks for it before creating another refund.
//   - Secret-key Basic auth on POST /sources (omise-go uses the public key there; set
//     ClientOptions.PublicKey to follow it). Gateway.CreateSession does not need it: it
//     creates the source inline with the charge (source[type]=...), as Omise's examples do.
//   - Event envelope {object:"event", id, key, created_at, data:{object, id, ...}}: from
//     Omise's documented event payloads (docs.omise.co/api-webhooks examples); the keys
//     handled are charge.complete, charge.capture, charge.reverse, refund.create,
//     dispute.create, dispute.update and dispute.close. Any other key is recorded
//     and acknowledged without being fetched.
//
// # What the gateway does with them
//
// A charge is a session and, once paid, the payment's reference. charge.capture
// becomes orders.EventCaptured with the captured amount and charge.reverse
// orders.EventVoided, so a capture or release made in Omise's dashboard reaches the
// order; Gateway.Capture and Gateway.Void make them from chatpay (Void reverses the
// charge, and a charge already reversed counts as released).
package omise
