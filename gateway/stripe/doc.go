// Package stripe is chatpay's Stripe gateway: Checkout Sessions for payment attempts,
// refunds, captures and releases (voids) of their PaymentIntents, answers to
// disputes, and signed webhooks normalised to orders.GatewayEvent. It talks to Stripe
// only through stripe-go's client (stripego.Client), so that request encoding,
// retries, idempotency headers and API versioning are Stripe's own.
//
// # Events
//
// ParseWebhook verifies Stripe-Signature with stripe-go (300 s tolerance, every v1
// signature against every configured secret, API-version mismatches ignored) and
// maps checkout.session.completed (paid only; unpaid is pending),
// checkout.session.async_payment_succeeded and _failed, checkout.session.expired,
// payment_intent.payment_failed (a declined try inside an open session, recorded
// only), payment_intent.canceled (a released authorisation: orders.EventVoided),
// charge.captured (orders.EventCaptured), charge.refunded (the cumulative refunded
// amount: orders.EventRefunded) and charge.dispute.created, .updated,
// .funds_withdrawn and .closed. Other types are recorded as sent and ignored.
//
// # What is verified against stripe-mock, and what only against fixtures
//
// stripe-mock (package stripemock; the version is stripemock.Version) checks every
// request against the OpenAPI specification of Stripe's API and answers with its
// fixtures, which stripe-go then decodes. These calls are verified that way, with
// the form fields and Idempotency-Key the gateway sent:
//
//   - CreateSession: POST /v1/checkout/sessions with client_reference_id, expires_at,
//     price_data in Stripe's minor units, metadata on the session and the
//     PaymentIntent, and capture_method=manual (TestCreateSessionAgainstStripeMock,
//     TestCreateSessionAmounts; end to end in cmd/chatpay's
//     TestCancelAuthorizedOrderStripe and TestStripeEventsInAnyOrder);
//   - SessionStatus: GET /v1/checkout/sessions/{id} with the intent expanded
//     (TestSessionStatusAgainstStripeMock);
//   - Refund: POST /v1/refunds (TestRefundAgainstStripeMock);
//   - ExpireSession: POST /v1/checkout/sessions/{id}/expire
//     (TestExpireSessionAgainstStripeMock);
//   - Capture: POST /v1/payment_intents/{id}/capture with amount_to_capture
//     (TestCaptureAgainstStripeMock);
//   - Void: POST /v1/payment_intents/{id}/cancel (TestVoidAgainstStripeMock, and end
//     to end when an authorised order is cancelled);
//   - dispute answers: POST /v1/disputes/{id} (evidence, submit), POST /v1/files,
//     POST /v1/disputes/{id}/close (TestDisputeAnswersAgainstStripeMock).
//
// stripe-mock keeps no state and sends no webhooks, so the rest is verified only
// against fixtures:
//
//   - answers that depend on an object's state are played by httptest stand-ins with
//     the error bodies Stripe documents: a session that is no longer open
//     (TestExpireSessionNotOpen), an intent that is already cancelled or captured
//     (TestVoidNotCancellable), missing objects (TestNotFoundIsOrdersNotFound,
//     TestVoidMissingIsNotFound), closed disputes (TestDisputeAnswersStates), and
//     sessions in each state (TestSessionStatusMapping);
//   - every webhook: the events are fixtures built from the event and object shapes
//     of Stripe's API reference, signed as Stripe signs (webhook_test.go,
//     void_test.go, and cmd/chatpay's gateway_events_test.go, which delivers one
//     payment's life in order, reversed, doubled, concurrently and stale through the
//     real webhook route). Field names and types are those of stripe-go's own
//     structs, which the parser decodes into, but no live Stripe account sent them.
//
// FuzzParseWebhook fuzzes the signature header and body parser.
package stripe
