// The query page: YASGUI preset to this server's endpoint, the stored examples as tabs.
// Everything the page needs comes from this server: the config is rendered into the page as JSON.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("query-page-config").textContent);
  // Only these two complete locally; the others call an online vocabulary service.
  var autocompleters = ["prefixes", "variables"];
  var ownEndpoint = function () { return [{ endpoint: config.endpoint }]; };

  // YASGUI merges its configuration with lodash `merge`, which merges arrays index by index, so the
  // defaults themselves are replaced rather than merged into.
  Yasgui.Yasqe.defaults.autocompleters = autocompleters.slice();
  Yasgui.defaults.yasqe.autocompleters = autocompleters.slice();
  Yasgui.defaults.endpointCatalogueOptions.getData = ownEndpoint;

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    persistenceId: null,         // keep no queries or results in localStorage
    populateFromUrl: false,      // the server reads ?query= / ?example= (an endpoint= cannot redirect us)
    autoAddOnInit: false,
    copyEndpointOnNewTab: false,
    autofocus: false,
    tabName: config.newTabName,
    requestConfig: {
      endpoint: config.endpoint,
      method: "POST",
      acceptHeaderGraph: "text/turtle,*/*;q=0.9",
    },
    endpointCatalogueOptions: { getData: ownEndpoint },
    yasqe: { value: config.newTabQuery, autocompleters: autocompleters.slice() },
    yasr: { prefixes: config.prefixes },
  });

  // selectTabId() only moves from an open tab, so the tab to open is added as the active one.
  var exampleTab = "example-";
  config.examples.forEach(function (example) {
    yasgui.addTab(example.id === config.selected,
                  { id: exampleTab + example.id, name: example.name, yasqe: { value: example.query } });
  });
  if (config.linkedQuery !== null) {
    yasgui.addTab(true, { id: "linked-query", name: config.linkedTabName, yasqe: { value: config.linkedQuery } });
  }

  // The address bar follows the open example, so copying it gives the example's permalink.
  yasgui.on("tabSelect", function (_instance, tabId) {
    if (tabId.indexOf(exampleTab) !== 0) return;
    var id = tabId.slice(exampleTab.length);
    var url = new URL(window.location.href);
    url.pathname = config.queryPagePath;
    url.search = "?example=" + encodeURIComponent(id);
    window.history.replaceState(null, "", url.toString());
    document.querySelectorAll(".examples a[aria-current]").forEach(function (a) {
      a.removeAttribute("aria-current");
    });
    var link = document.querySelector('.examples li[data-example="' + CSS.escape(id) + '"] a');
    if (link) link.setAttribute("aria-current", "page");
  });

  // The example list opens tabs in place instead of reloading the page.
  document.querySelectorAll(".examples li[data-example] a").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var id = link.parentElement.getAttribute("data-example");
      if (!yasgui.getTab(exampleTab + id)) return;
      event.preventDefault();
      yasgui.selectTabId(exampleTab + id);
      document.getElementById("editor").scrollIntoView();
    });
  });

  // Downloads send the query of the open tab.
  var form = document.getElementById("download-form");
  var textarea = document.getElementById("download-query");
  textarea.parentElement.hidden = true;
  form.querySelector(".js-only").hidden = false;
  form.addEventListener("submit", function () {
    var tab = yasgui.getTab();
    if (tab && tab.getYasqe()) textarea.value = tab.getYasqe().getValue();
  });

  window.planlodQueryPage = { yasgui: yasgui };
})();
