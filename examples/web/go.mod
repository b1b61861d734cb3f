module github.com/opencampfire/campfire/examples/web
