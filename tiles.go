package ags

// TilesService updates tile caches. Reach it as Client.Tiles.
type TilesService service
