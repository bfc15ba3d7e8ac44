package console

import "github.com/labstack/echo/v4"

// Areas still to come mount nothing yet; each moves to its own file.

func (u *Console) routesSources(g *echo.Group)   {}
func (u *Console) routesRuns(g *echo.Group)      {}
func (u *Console) routesApps(g *echo.Group)      {}
func (u *Console) routesDirectory(g *echo.Group) {}
func (u *Console) routesTokens(g *echo.Group)    {}
func (u *Console) routesAudit(g *echo.Group)     {}
