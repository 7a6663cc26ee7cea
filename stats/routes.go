package stats

// Route is the route that produced a response, for the metrics: a small
// number the workers set on each reply and the reactor passes through
// unread. Route n (n >= 1) is the nth name given to New; the names come from
// the route table in handlers/.
type Route uint8

// RouteOther counts the responses without a named route: the errors the
// reactor answers itself, and OPTIONS *, which the route table leaves unnamed.
const RouteOther Route = 0

// otherName labels RouteOther's series.
const otherName = "other"
