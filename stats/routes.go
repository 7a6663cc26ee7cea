package stats

// Route names the handler that produced a response, for the metrics. The
// workers set it on each reply; the reactor passes it through unread.
type Route uint8

const (
	RouteOther   Route = iota // errors the reactor answers itself, OPTIONS *
	RoutePing                 // /ping
	RouteEcho                 // /echo
	RouteWrite                // /write
	RouteRead                 // /read
	RouteStats                // /stats
	RouteMetrics              // /metrics
	RouteFile                 // static files
	numRoutes
)

var routeNames = [numRoutes]string{"other", "ping", "echo", "write", "read", "stats", "metrics", "file"}

func (r Route) String() string {
	if r < numRoutes {
		return routeNames[r]
	}
	return "other"
}
