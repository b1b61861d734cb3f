// End-to-end check of the web client against the real example server, in
// Debian's Chromium (headless, through playwright-core). It builds nothing:
// the server embeds the committed build (examples/server/web/dist).
//
//   npm run e2e                      # from examples/web
//
// Environment:
//   CAMPFIRE_E2E_SERVER   a prebuilt server binary to run instead of `go run ./examples/server`
//   CAMPFIRE_E2E_PORT     port to listen on (default: a free one)
//   CHROMIUM              browser binary (default /usr/bin/chromium)
//
// Screenshots of the main screens go to <repo>/artifacts/e2e/.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../..");
const artifacts = join(repo, "artifacts", "e2e");
mkdirSync(artifacts, { recursive: true });

const port = Number(process.env.CAMPFIRE_E2E_PORT) || (await freePort());
const base = `http://127.0.0.1:${port}`;
const tmp = mkdtempSync(join(tmpdir(), "campfire-e2e-"));
const db = join(tmp, "chat.db");
const LIVE_TIMEOUT = 15000;

// ---------- the server ----------

let server = null;
let serverLog = "";

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

async function startServer() {
  const bin = process.env.CAMPFIRE_E2E_SERVER;
  const [cmd, args] = bin ? [bin, []] : ["go", ["run", "./examples/server"]];
  // Its own process group, so that stopping it also stops the binary `go run` started.
  server = spawn(cmd, [...args, "-addr", `127.0.0.1:${port}`, "-db", db], {
    cwd: repo,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const child = server;
  child.stdout.on("data", (d) => (serverLog += d));
  child.stderr.on("data", (d) => (serverLog += d));
  const exited = new Promise((res) => child.once("exit", res));
  child.exited = exited;
  const deadline = Date.now() + 300000; // a cold `go run` compiles first
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error("server exited at start:\n" + serverLog.slice(-2000));
    try {
      const res = await fetch(base + "/up");
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error("server did not start in time:\n" + serverLog.slice(-2000));
}

async function stopServer() {
  const child = server;
  server = null;
  if (!child || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timeout = sleep(15000).then(() => "timeout");
  if ((await Promise.race([child.exited, timeout])) === "timeout") {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
    await child.exited;
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------- the checks ----------

const results = [];
const problems = []; // dialogs and page errors: any is a failure
let browser;

async function step(name, fn) {
  if (results.some((r) => !r.ok)) {
    results.push({ name, ok: false, skipped: true });
    console.log(`  - ${name} (skipped after a failure)`);
    return;
  }
  const started = Date.now();
  try {
    await fn();
    if (problems.length) throw new Error(problems.splice(0).join("; "));
    results.push({ name, ok: true });
    console.log(`  ✓ ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`  ✗ ${name}\n    ${String(err && err.stack ? err.stack : err).split("\n").slice(0, 6).join("\n    ")}`);
    for (const p of pages) await p.screenshot({ path: join(artifacts, `failure-${p.label}.png`) }).catch(() => {});
  }
}

const pages = [];

async function newPerson(label, viewport = { width: 1280, height: 820 }) {
  const context = await browser.newContext({ viewport, baseURL: base });
  const page = await context.newPage();
  page.label = label;
  page.on("dialog", async (d) => {
    problems.push(`${label}: a ${d.type()} dialog fired ("${d.message()}")`);
    await d.dismiss().catch(() => {});
  });
  page.on("pageerror", (e) => problems.push(`${label}: page error: ${e.message}`));
  pages.push(page);
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, name + ".png") });
}

function composer(page) {
  return page.getByRole("textbox", { name: /^Message / });
}

function messageWith(page, text) {
  return page.locator("article.message", { hasText: text });
}

async function send(page, text) {
  const box = composer(page);
  await box.click();
  await box.fill(text);
  await box.press("Enter");
  await messageWith(page, text).locator(".message-status").waitFor({ state: "detached", timeout: LIVE_TIMEOUT });
}

async function connected(page) {
  await page.locator(".connection.connected").waitFor({ timeout: LIVE_TIMEOUT });
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function main() {
  console.log(`e2e: server on ${base}, database ${db}`);
  await startServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
    ],
  });

  const { page: ada } = await newPerson("ada");
  const { context: bobContext, page: bob } = await newPerson("bob");
  let joinURL = "";
  let roomPath = "";

  await step("first run through the UI creates the admin and opens All Talk", async () => {
    await ada.goto("/");
    await ada.getByRole("heading", { name: "Welcome to Campfire" }).waitFor();
    await ada.getByLabel("Your name").fill("Ada Lovelace");
    await ada.getByLabel("Email address").fill("ada@example.com");
    await ada.getByLabel("Password").fill("correct horse battery");
    await ada.getByLabel("Name of this chat").fill("Analytical Engines");
    await shot(ada, "01-first-run");
    await ada.getByRole("button", { name: "Set up Campfire" }).click();
    await composer(ada).waitFor();
    await ada.getByRole("heading", { name: "All Talk" }).waitFor();
    roomPath = new URL(ada.url()).pathname;
    assert(/^\/rooms\/\d+$/.test(roomPath), "landed on " + roomPath);
    await connected(ada);
    const via = await ada.locator(".connection.connected").getAttribute("title");
    console.log(`    (${via})`);
  });

  await step("the admin page shows the join link", async () => {
    await ada.getByRole("link", { name: "Administration" }).click();
    const input = ada.getByLabel("Join link");
    await input.waitFor();
    joinURL = await input.inputValue();
    assert(joinURL.startsWith(base + "/join/"), "join link " + joinURL);
    await shot(ada, "02-admin");
    await ada.goto(roomPath);
    await composer(ada).waitFor();
  });

  await step("a second person joins by the join link, in a second browser context", async () => {
    await bob.goto(joinURL);
    await bob.getByRole("heading", { name: "Join the chat" }).waitFor();
    await bob.getByLabel("Your name").fill("Bob Babbage");
    await bob.getByLabel("Email address").fill("bob@example.com");
    await bob.getByLabel("Password").fill("difference engine");
    await shot(bob, "03-join");
    await bob.getByRole("button", { name: "Join" }).click();
    await composer(bob).waitFor();
    await bob.getByRole("heading", { name: "All Talk" }).waitFor();
    assert(new URL(bob.url()).pathname === roomPath, "bob is in " + bob.url());
    await connected(bob);
  });

  await step("a message typed by one appears live for the other", async () => {
    await send(ada, "Hello Bob, welcome to **the engine room**");
    const there = messageWith(bob, "Hello Bob, welcome to");
    await there.waitFor({ timeout: LIVE_TIMEOUT });
    assert((await there.locator("strong").textContent()) === "the engine room", "markdown rendered");
  });

  await step("the typing indicator appears while the other types", async () => {
    const box = composer(bob);
    await box.click();
    await box.pressSequentially("Thanks Ada", { delay: 20 });
    await ada.getByText("Bob Babbage is typing…").waitFor({ timeout: LIVE_TIMEOUT });
    await shot(ada, "04-typing");
    await box.press("Enter");
    await messageWith(ada, "Thanks Ada").waitFor({ timeout: LIVE_TIMEOUT });
    await ada.getByText("Bob Babbage is typing…").waitFor({ state: "detached", timeout: LIVE_TIMEOUT });
  });

  await step("an edit shows up live", async () => {
    await send(ada, "The loom weaves flowers");
    await messageWith(bob, "The loom weaves flowers").waitFor({ timeout: LIVE_TIMEOUT });
    const box = composer(ada);
    await box.click();
    await box.press("ArrowUp"); // ↑ edits your last message
    const editor = ada.getByRole("textbox", { name: "Edit message" });
    await editor.fill("The loom weaves algebraic patterns");
    await editor.press("Enter");
    await messageWith(bob, "algebraic patterns").waitFor({ timeout: LIVE_TIMEOUT });
    await messageWith(bob, "weaves flowers").waitFor({ state: "detached", timeout: LIVE_TIMEOUT });
  });

  await step("a delete shows up live", async () => {
    await send(ada, "Oops, wrong room");
    await messageWith(bob, "Oops, wrong room").waitFor({ timeout: LIVE_TIMEOUT });
    const msg = messageWith(ada, "Oops, wrong room");
    await msg.hover();
    await msg.getByRole("button", { name: "Delete" }).click();
    await msg.getByRole("button", { name: "Delete" }).click(); // confirm
    await messageWith(bob, "Oops, wrong room").waitFor({ state: "detached", timeout: LIVE_TIMEOUT });
  });

  await step("a boost shows up for the author", async () => {
    const msg = messageWith(bob, "algebraic patterns");
    await msg.hover();
    await msg.getByRole("button", { name: "Boost", exact: true }).click();
    await bob.getByRole("button", { name: "Boost with 🎉" }).click();
    await messageWith(ada, "algebraic patterns").getByRole("button", { name: /🎉 from Bob Babbage/ }).waitFor({ timeout: LIVE_TIMEOUT });
    await shot(ada, "05-room");
  });

  await step("hostile markdown renders inert: no dialog, no script", async () => {
    const hostile = [
      "Totally normal <script>alert('script')</script>",
      "<img src=x onerror=\"alert('img')\"> <svg onload=\"alert('svg')\"></svg>",
      "[click me](javascript:alert('link')) <a href=\"javascript:alert('a')\">raw</a>",
      "<iframe src=\"javascript:alert('frame')\"></iframe> <style>body{display:none}</style>",
    ].join("\n\n");
    const box = composer(bob);
    await box.fill(hostile);
    await box.press("Enter");
    const msg = messageWith(ada, "Totally normal");
    await msg.waitFor({ timeout: LIVE_TIMEOUT });
    await sleep(500);
    for (const page of [ada, bob]) {
      const found = await page.evaluate(() => {
        const bodies = [...document.querySelectorAll(".message-body")];
        return {
          script: bodies.some((b) => b.querySelector("script, iframe, object, embed, style")),
          handlers: bodies.some((b) => [...b.querySelectorAll("*")].some((el) => [...el.attributes].some((a) => a.name.startsWith("on")))),
          js: bodies.some((b) => [...b.querySelectorAll("[href], [src]")].some((el) => /^\s*javascript:/i.test(el.getAttribute("href") || el.getAttribute("src") || ""))),
          visible: document.body.offsetHeight > 0,
        };
      });
      assert(!found.script && !found.handlers && !found.js && found.visible, `${page.label}: hostile markup survived ${JSON.stringify(found)}`);
    }
    const link = msg.getByText("click me");
    if (await link.count()) await link.click();
    await sleep(300);
  });

  await step("the admin makes a bot: its key is shown once and posts as the curl example does; a reset key stops the old one", async () => {
    await ada.getByRole("link", { name: "Administration" }).click();
    const bots = ada.getByRole("region", { name: "Bots" });
    await bots.getByRole("textbox", { name: "Bot name" }).fill("Tally");
    await bots.getByRole("button", { name: "Create bot" }).click();
    const keyBox = bots.getByRole("textbox", { name: "Key for Tally" });
    await keyBox.waitFor();
    const key = await keyBox.inputValue();
    assert(/^\d+-[A-Za-z0-9]{24}$/.test(key), "key " + key);
    const roomId = Number(roomPath.split("/").pop());
    const url = `${base}/api/v1/rooms/${roomId}/${key}/messages`;
    const command = await bots.locator(".bot-command code").textContent();
    assert(command === `curl -d 'Hello!' ${url}`, "command " + command);
    await bots.getByRole("row", { name: /Tally/ }).waitFor();
    await bots.screenshot({ path: join(artifacts, "12-bot-key.png") });
    // What `curl -d` sends: the raw text, labelled as a form.
    const post = (u, text) => fetch(u, { method: "POST", body: text, headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    const res = await post(url, "Hello from Tally!");
    assert(res.status === 201, "bot post answered " + res.status);
    await messageWith(bob, "Hello from Tally!").waitFor({ timeout: LIVE_TIMEOUT });

    const shown = (k) => ada.evaluate((k) => document.body.innerHTML.includes(k) || [...document.querySelectorAll("input")].some((i) => i.value === k), k);
    await bots.getByRole("button", { name: "Done" }).click();
    await keyBox.waitFor({ state: "detached" });
    assert(!(await shown(key)), "the key is still on the page");

    await bots.getByRole("button", { name: "Reset key of Tally" }).click();
    await bots.getByRole("group", { name: /Reset the key of Tally/ }).waitFor();
    await bots.getByRole("button", { name: "Reset key", exact: true }).click();
    await bots.getByRole("region", { name: "New key for Tally" }).waitFor();
    const fresh = await keyBox.inputValue();
    assert(fresh !== key && /^\d+-[A-Za-z0-9]{24}$/.test(fresh), "new key " + fresh);
    assert((await post(url, "Old key")).status === 401, "the old key still works");
    assert((await post(url.replace(key, fresh), "New key works")).status === 201, "the new key does not work");
    await messageWith(bob, "New key works").waitFor({ timeout: LIVE_TIMEOUT });
    await bots.getByRole("button", { name: "Done" }).click();

    await ada.goto(roomPath);
    await composer(ada).waitFor();
    await connected(ada);
  });

  await step("a person picked from the @ list is mentioned by id and shown by name", async () => {
    const box = composer(ada);
    await box.click();
    await box.pressSequentially("@Bo", { delay: 20 });
    await ada.getByRole("option", { name: /Bob Babbage/ }).waitFor({ timeout: LIVE_TIMEOUT });
    await box.press("Enter");
    assert((await box.inputValue()) === "@Bob Babbage ", "composer shows " + (await box.inputValue()));
    await box.pressSequentially("the loom needs you");
    await box.press("Enter");
    const msg = messageWith(bob, "the loom needs you");
    await msg.waitFor({ timeout: LIVE_TIMEOUT });
    const mention = msg.locator("span.mention");
    assert((await mention.textContent()) === "@Bob Babbage", "mention shows " + (await mention.textContent()));
    const roomId = Number(roomPath.split("/").pop());
    const page = await (await bobContext.request.get(`/api/v1/rooms/${roomId}/messages?limit=5`)).json();
    const sent = page.messages.find((m) => m.body.plain_text.includes("the loom needs you"));
    const bobId = Number(await mention.getAttribute("data-user-id"));
    assert(sent && sent.body.markdown === `<@${bobId}> the loom needs you` && sent.mentions.includes(bobId), "sent " + JSON.stringify(sent?.body));
  });

  await step("after a server restart, messages posted meanwhile appear without a reload", async () => {
    await ada.evaluate(() => (window.__stillThisPage = true));
    await stopServer();
    await ada.locator(".connection:not(.connected)").waitFor({ timeout: LIVE_TIMEOUT });
    await shot(ada, "06-reconnecting");
    await startServer();
    // Bob's browser session posts through the API while Ada's client is still away.
    const roomId = Number(roomPath.split("/").pop());
    for (const text of ["Posted while you were away", "And another one"]) {
      const res = await bobContext.request.post(`/api/v1/rooms/${roomId}/messages`, {
        data: { body: text, client_message_id: "api-" + text.length + "-" + Date.now() },
      });
      assert(res.status() === 201, "API post answered " + res.status());
    }
    await messageWith(ada, "Posted while you were away").waitFor({ timeout: 45000 });
    await messageWith(ada, "And another one").waitFor({ timeout: LIVE_TIMEOUT });
    await connected(ada);
    assert(await ada.evaluate(() => window.__stillThisPage === true), "the page was reloaded");
    await send(ada, "Back online");
    await messageWith(bob, "Back online").waitFor({ timeout: 45000 });
  });

  await step("screens: search, profile, new room, phone", async () => {
    await ada.getByRole("link", { name: "Search" }).click();
    await ada.getByLabel("Search messages").fill("loom");
    await ada.getByRole("button", { name: "Search", exact: true }).click();
    await ada.locator(".search-result", { hasText: "algebraic" }).waitFor({ timeout: LIVE_TIMEOUT });
    await shot(ada, "07-search");
    await ada.getByRole("link", { name: /Your profile/ }).click();
    await ada.getByRole("heading", { name: "Your profile" }).waitFor();
    await shot(ada, "08-profile");
    await ada.getByRole("link", { name: "New room" }).click();
    await ada.getByRole("heading", { name: "New room" }).waitFor();
    await shot(ada, "09-new-room");

    const { page: phone } = await newPerson("phone", { width: 390, height: 760 });
    await phone.goto("/");
    await phone.getByLabel("Email address").fill("bob@example.com");
    await phone.getByLabel("Password").fill("difference engine");
    await phone.getByRole("button", { name: "Sign in" }).click();
    await composer(phone).waitFor();
    await messageWith(phone, "Back online").waitFor({ timeout: LIVE_TIMEOUT });
    await shot(phone, "10-phone-room");
    await phone.getByRole("button", { name: "Show rooms" }).click();
    await phone.getByRole("navigation", { name: "Rooms" }).getByRole("link", { name: /All Talk/ }).waitFor();
    await sleep(400); // the drawer slides in
    await shot(phone, "11-phone-sidebar");
  });

  await step("changing the password asks for the current one, and the browser stays signed in", async () => {
    await bob.getByRole("link", { name: /Your profile/ }).click();
    await bob.getByRole("heading", { name: "Your profile" }).waitFor();
    await bob.getByLabel("Current password", { exact: true }).fill("not my password");
    await bob.getByLabel("New password", { exact: true }).fill("analytical engine");
    await bob.getByLabel("Confirm new password", { exact: true }).fill("analytical engine");
    await bob.getByRole("button", { name: "Save" }).click();
    await bob.getByText("That's not your current password.").waitFor({ timeout: LIVE_TIMEOUT });
    await bob.getByLabel("Current password", { exact: true }).fill("difference engine");
    await bob.getByRole("button", { name: "Save" }).click();
    await bob.getByText("Your password is changed.").waitFor({ timeout: LIVE_TIMEOUT });
    await bob.goto(roomPath);
    await composer(bob).waitFor();
    await connected(bob);
    await ada.goto(roomPath);
    await composer(ada).waitFor();
    await send(bob, "New password, same browser");
    await messageWith(ada, "New password, same browser").waitFor({ timeout: LIVE_TIMEOUT });
  });
}

let crashed = null;
try {
  await main();
} catch (err) {
  crashed = err;
  console.log("e2e: " + (err && err.stack ? err.stack : err));
} finally {
  await browser?.close().catch(() => {});
  await stopServer();
  rmSync(tmp, { recursive: true, force: true });
}

const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed + (crashed ? 1 : 0);
if (failed && serverLog) console.log("--- server log (tail) ---\n" + serverLog.slice(-3000));
console.log(`screenshots: ${artifacts}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
