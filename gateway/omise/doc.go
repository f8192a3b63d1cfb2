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
//   - Expiry of authorisations: the charge attributes expired (boolean), expired_at
//     (when it actually expired) and expires_at (when it is expected to):
//     https://www.omise.co/charges-api (the 2017-11-02 and Japan versions of the page
//     list all three). An authorised card charge left uncaptured for more than 7 days
//     (30 for merchants registered in Japan) is cancelled by Omise, and a capture or a
//     reversal of it is answered with error code expired_charge, default message
//     "charge expired", listed among the 400 Bad Request errors:
//     https://docs.omise.co/api-errors. "If the authorization expires the capture will
//     fail": https://docs.omise.co/does-omise-support-authorize-and-hold-only.
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
//     handled are charge.complete, charge.capture, charge.reverse, charge.expire,
//     refund.create, dispute.create, dispute.update and dispute.close. Any other key
//     is recorded and acknowledged without being fetched.
//   - charge.expire. The official event lists we could read
//     (https://www.omise.co/api-webhooks, older versions) name only charge.create,
//     update, capture, reverse and complete; the current Opn page was cut before its
//     charge events. The key is taken from third-party integrations (django-omise's
//     list of event types, which cites that page, and several webhook handlers). It is
//     handled if it comes, and nothing depends on it: Void and Capture find an expiry
//     themselves.
//   - What an expired authorisation looks like: the docs name the fields but show no
//     such charge. chatpay takes either expired=true or status "expired", on a charge
//     that was authorised (authorized, or an authorized_amount) and captured nothing,
//     as a lapsed hold, and assumes authorized stays true after the expiry (an expired
//     PromptPay charge, never authorised, is a failed payment instead). The date shown
//     is expired_at, else expires_at. Omise's expires_at of a card hold being the end
//     of its 7 days is also assumed (omisetest sets it so).
//
// # What the gateway does with them
//
// A charge is a session and, once paid, the payment's reference. charge.capture
// becomes orders.EventCaptured with the captured amount and charge.reverse
// orders.EventVoided, so a capture or release made in Omise's dashboard reaches the
// order; Gateway.Capture and Gateway.Void make them from chatpay (Void reverses the
// charge, and a charge already reversed counts as released).
//
// An authorisation that expired uncaptured counts as released too, since Omise
// cancelled it and the money is back with the customer: Void reports success for a
// charge that reads as expired or whose reversal Omise answers with expired_charge,
// so a cancelled order's hold is recorded as released instead of staff being asked
// to release it; charge.expire, and any handled event of such a charge, becomes
// orders.EventVoided with Reason "expired". Capture of such a charge returns an
// *ExpiredError: an orders.ECONFLICT error, which the capture job does not retry,
// saying when the authorisation expired (errors.Is ErrAuthorizationExpired).
package omise
