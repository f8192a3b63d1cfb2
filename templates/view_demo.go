package templates

// DemoView is the first-run demo page: the owner's dashboard and a customer's web chat
// side by side, and the one-time sign-in page that leads to it.
type DemoView struct {
	// Token is the one-time sign-in token the start page's button posts; Invalid says
	// the link was already used or has expired.
	Token   string
	Invalid bool
	// DashboardURL is the owner's side (a dashboard page), ChatURL the customer's web
	// chat; Customer is the customer's name.
	DashboardURL, ChatURL, Customer string
}
