// The tracking snippet a shop embeds: <script src="https://<ads-api>/snippet.js" data-site="demo-shop" async></script>
// It reports the landing page's campaign (?utm_campaign=) once per page view, as a click id the
// order webhook can carry back (note attribute click_id).
(() => {
  var me = document.currentScript;
  var site = me?.getAttribute("data-site");
  var campaign = new URLSearchParams(location.search).get("utm_campaign");
  if (!site || !campaign) return;
  var click = "c_" + campaign + "_" + Math.random().toString(36).slice(2, 10);
  try {
    sessionStorage.setItem("ads_click_id", click);
  } catch {}
  var url = new URL("/t", me.src);
  url.searchParams.set("s", site);
  url.searchParams.set("c", campaign);
  url.searchParams.set("id", click);
  navigator.sendBeacon ? navigator.sendBeacon(url) : fetch(url, { mode: "no-cors", keepalive: true });
})();
