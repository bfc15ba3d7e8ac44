package console

import "github.com/labstack/echo/v4"

// Areas still to come mount nothing yet; each moves to its own file.

func (u *Console) routesDirectory(g *echo.Group) {}
