package ags

// ServicesService administers the services of a site through the admin API
// and refreshes them. Reach it as Client.Services.
type ServicesService service
