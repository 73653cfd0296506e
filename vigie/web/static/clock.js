/* Vigie's one clock in the pages: every time is written and read in the site's time zone, never the
   browser's. The server gives the zone (window.VIGIE_CLOCK, from /static/clock/site.js, before this file);
   times are formatted with Intl.DateTimeFormat's timeZone option, dd/mm/yyyy 24 h, labelled
   ("06/12/2026 14:05 (Paris time)"); what a person types in a time field ("14h", "hier 14h-15h",
   "06/12/2026 14:00", "last hour") is read by the server (POST /api/time/read, vigie.clock), which
   answers UTC times and a readback shown next to the field. */
"use strict";

(function () {
  const clock = window.VIGIE_CLOCK || { timezone: "UTC", city: "UTC" };
  // Stored times have microseconds: keep milliseconds, which every Date parser reads.
  const date = (iso) => new Date(String(iso).replace(/(\.\d{3})\d+/, "$1"));
  const bad = (iso) => !iso || isNaN(date(iso));
  const parts = (iso, seconds) => {
    const fmt = new Intl.DateTimeFormat("en-GB", {
      timeZone: clock.timezone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: seconds ? "2-digit" : undefined, hourCycle: "h23",
    });
    const p = {};
    for (const x of fmt.formatToParts(date(iso))) p[x.type] = x.value;
    return p;
  };
  window.siteZone = () => clock.timezone;
  /* "Paris time" / "heure de Paris" (UTC for a site on UTC). */
  window.siteZoneLabel = () => (clock.city === "UTC" ? "UTC" : t("{city} time", { city: clock.city }));
  /* "14:05" or "14:05:09" on the site's clock (no label: for tables whose header carries it). */
  window.siteClock = function (iso, seconds) {
    if (bad(iso)) return iso ? String(iso) : "";
    const p = parts(iso, seconds);
    return p.hour + ":" + p.minute + (seconds ? ":" + p.second : "");
  };
  /* "06/12/2026 14:05" on the site's clock, unlabelled. */
  window.siteDate = function (iso, seconds) {
    if (bad(iso)) return iso ? String(iso) : "";
    const p = parts(iso, seconds);
    return p.day + "/" + p.month + "/" + p.year + " " + p.hour + ":" + p.minute + (seconds ? ":" + p.second : "");
  };
  /* "06/12/2026 14:05 (Paris time)". */
  window.siteTime = function (iso, seconds) {
    if (bad(iso)) return iso ? String(iso) : "";
    return t("{time} ({zone})", { time: siteDate(iso, seconds), zone: siteZoneLabel() });
  };
  /* For the auditor: local time with UTC beside it. */
  window.siteAndUtc = function (iso) {
    if (bad(iso)) return iso ? String(iso) : "";
    return t("{time} ({zone}); {utc} UTC", { time: siteDate(iso, true), zone: siteZoneLabel(), utc: date(iso).toISOString().slice(0, 19).replace("T", " ") });
  };
  /* A time field's text as a UTC ISO time: the instant it names, else its window's start or end (edge).
     The readback goes to the field's hint (an element named by its aria-describedby); a text not
     understood throws the server's error, which names the words. Empty: null. */
  window.readSiteTime = async function (input, edge) {
    const text = input.value.trim();
    const hint = input.getAttribute("aria-describedby") ? document.getElementById(input.getAttribute("aria-describedby")) : null;
    if (!text) { if (hint) hint.textContent = ""; return null; }
    const r = await api("/api/time/read", { method: "POST", body: { text: text } });
    if (hint) hint.textContent = r.readback;
    return r.at || (edge === "end" ? r.end : r.start);
  };
  /* Fields read by synchronous code (filters built into a link): <input data-site-time="start|end"> is
     read when it changes; its UTC time is kept in data-iso ("" when empty or not understood), and
     siteTimesSettled() waits for the readings under way. */
  const pending = new Set();
  window.siteTimesSettled = () => Promise.all([...pending]).catch(() => {});
  function bind(input) {
    input.addEventListener("change", () => {
      input.dataset.iso = "";
      const reading = readSiteTime(input, input.dataset.siteTime).then((iso) => { input.dataset.iso = iso || ""; });
      pending.add(reading);
      reading.catch(() => {}).finally(() => pending.delete(reading));
    });
  }
  /* A time field's initial value: what a person would type, on the site's clock. */
  window.siteInputValue = (iso) => siteDate(iso);
  document.addEventListener("DOMContentLoaded", () => {
    for (const input of document.querySelectorAll("input[data-site-time]")) bind(input);
    for (const node of document.querySelectorAll("[data-clock-hint]"))
      node.textContent = t("Times on the site's clock ({zone}): for example 06/12/2026 14:00, 14h, yesterday 14h-15h, 2 hours ago, last hour.", { zone: siteZoneLabel() });
  });
})();
