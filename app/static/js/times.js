// Times: the server writes them in the reader's time zone (UTC until it knows
// it). The first time the script runs for someone, it tells the server the
// browser's zone, then shows the page again in it and keeps its own times
// (a Sending message's, the day it checks for) in it too.
"use strict";

{
  const { root, live, csrf } = Parley;
  let clockFormat, dayFormat;
  const useTimeZone = (zone) => {
    clockFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone || "UTC" });
    dayFormat = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone || "UTC" });
  };
  useTimeZone(root.dataset.timeZone);
  Parley.clockLabel = (date) => clockFormat.format(date) + (root.dataset.timeZone ? "" : " UTC");
  Parley.sameDay = (a, b) => dayFormat.format(a) === dayFormat.format(b);

  // A page left open past midnight would still say "Today" of yesterday's
  // messages: it shows itself again once the reader's day has changed.
  let shownDay = dayFormat.format(new Date());
  const refreshOnANewDay = () => {
    const today = dayFormat.format(new Date());
    if (today === shownDay) return;
    shownDay = today;
    Parley.refreshRegions();
  };
  setInterval(refreshOnANewDay, 60_000);
  document.addEventListener("visibilitychange", refreshOnANewDay);

  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (root.dataset.timeZone === "" && browserZone) {
    fetch(live.dataset.timeZoneUrl, {
      method: "POST",
      body: new URLSearchParams({ time_zone: browserZone }),
      headers: { "X-CSRFToken": csrf, "HX-Request": "true" },
    }).then((response) => {
      if (!response.headers.get("HX-Trigger")?.includes("time-zone-set")) return;
      root.dataset.timeZone = browserZone;
      useTimeZone(browserZone);
      shownDay = dayFormat.format(new Date());
      Parley.refreshRegions();
    });
  }
}
