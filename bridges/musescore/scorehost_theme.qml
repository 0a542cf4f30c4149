//=============================================================================
//  scorehost: Develop theme
//
//  Develops a theme in empty bars with a model served by a running
//  `scorehost serve` (theme by default), as one undoable edit: the theme comes
//  back in them, transposed and varied, between new material.
//
//  - Select the theme (bars with notes, on one staff or several) and run it:
//    the first run of empty bars after the selection, on the same staves, is
//    filled. Bars with notes between the theme and them stay as they are.
//  - Or select the empty bars to fill: the theme is the dialog's "Theme bars"
//    (bars as printed, e.g. 1-4), or, left blank, the one the server finds
//    repeated before the bars (it says which bars it took).
//
//  Each staff goes to the server as one track (as Fill selection sends it);
//  the notes that come back are spread over the staff's four voices.
//
//  Settings come from the dialog, or from scorehost.json beside this file (its
//  top-level keys and its "develop" section: server, token, model, options,
//  constraints, theme, regions, selection, variation, save_as, autorun).
//  "theme" is bars as printed ("1-4") or ticks ({"start", "end", "track"});
//  "regions" names the bars to fill as Fill's do; "selection" ({"start",
//  "end", "firstStaff", "lastStaff"} in ticks and staves) stands for the
//  selected range, since MuseScore 3.2's plugins cannot select, so it runs
//  headless: QT_QPA_PLATFORM=offscreen mscore3 -p /abs/path/scorehost_theme.qml score
//
//  What this action shares with the other actions lives in scorehost.js,
//  which must sit beside this file.
//=============================================================================

import QtQuick 2.2
import MuseScore 3.0
import FileIO 3.0
import "scorehost.js" as Scorehost

MuseScore {
    id: plugin
    menuPath: "Plugins.scorehost.Develop theme"
    description: "Develops the selected theme in the empty bars after it, or a theme in the selected empty bars, with a scorehost model (needs `scorehost serve`)."
    version: "0.1.0"
    requiresScore: true
    pluginType: "dialog"
    width: 400
    height: 240

    readonly property string selectFirst: "Select the theme (empty bars after it are filled), or the empty bars to develop a theme in, then run Develop theme."
    property var settings: Scorehost.newSettings("develop", { model: "theme", temperature: "", theme: "" })

    FileIO {
        id: sidecar
        source: Scorehost.localPath(Qt.resolvedUrl("scorehost.json"))
    }

    onRun: {
        Scorehost.loadSettings(settings, sidecar, report);
        Scorehost.showFields(settings, fields());
        if (settings.autorun) {
            develop();
            Scorehost.leave();
        } else if (!settings.regions && !range()) {
            report(selectFirst);
        }
    }

    function fields() {
        return { server: serverField, model: modelField, temperature: temperatureField, theme: themeField };
    }

    function report(message) {
        Scorehost.report(statusText, message);
    }

    function range() {
        return settings.selection || Scorehost.selection();
    }

    // ---- what to write, and the theme ---------------------------------------

    // Bars as the server numbers them (as printed: a pickup is bar 0).
    function barNumbers(score) {
        var first = score.bars[0];
        var pickup = score.bars.length > 1 && first[1] < first[2] * Scorehost.wholeTicks / first[3];
        return score.bars.map(function (bar, i) { return { start: bar[0], end: bar[0] + bar[1], number: pickup ? i : i + 1 }; });
    }

    function barsLabel(bars, start, end) {
        var inside = bars.filter(function (b) { return b.start < end && start < b.end && b.end - b.start > 0; });
        if (!inside.length)
            return "ticks " + start + "-" + end;
        var first = inside[0].number, last = inside[inside.length - 1].number;
        return first === last ? "bar " + first : "bars " + first + "-" + last;
    }

    function holdsNotes(score, staves, start, end) {
        return staves.some(function (staff) {
            return score.tracks[staff].notes.some(function (n) { return n.start >= start && n.start < end; });
        });
    }

    // The first run of bars after tick `from` in which none of the staves has a note, or null.
    function emptyBarsAfter(score, staves, from) {
        var bars = barNumbers(score), run = null;
        for (var i = 0; i < bars.length; i++) {
            if (bars[i].start < from || bars[i].end <= bars[i].start)
                continue;
            var empty = !holdsNotes(score, staves, bars[i].start, bars[i].end);
            if (empty && !run)
                run = { start: bars[i].start, end: bars[i].end };
            else if (empty)
                run.end = bars[i].end;
            else if (run)
                break;
        }
        return run;
    }

    // The theme the settings name: bars as printed ("1-4"), or ticks {start, end, track}.
    function namedTheme(score) {
        var theme = settings.theme;
        if (theme === undefined || theme === null || String(theme).trim() === "")
            return null;
        if (typeof theme === "object") {
            var constraint = { type: "theme", start: theme.start, end: theme.end };
            if (theme.track !== undefined && theme.track !== null)
                constraint.track = Scorehost.staffNamed(score, theme.track);
            return constraint;
        }
        return "theme:" + String(theme).trim();
    }

    function plan() {
        var score = Scorehost.readStaves();
        var bars = barNumbers(score);
        var theme = namedTheme(score);
        var places = Scorehost.staffPlaces(score);
        if (settings.regions)
            return { score: score, regions: Scorehost.namedRegions(settings.regions, score), places: places, constraints: theme ? [theme] : [] };
        var selected = range();
        if (!selected)
            throw selectFirst;
        var staves = [];
        for (var staff = selected.firstStaff; staff <= selected.lastStaff; staff++)
            staves.push(staff);
        if (theme || !holdsNotes(score, staves, selected.start, selected.end))  // empty bars to fill
            return { score: score, regions: Scorehost.rangeRegions(selected), places: places, constraints: theme ? [theme] : [] };
        // The selection is the theme: the empty bars after it are filled.
        var fill = emptyBarsAfter(score, staves, selected.end);
        if (!fill)
            throw "no empty bars follow the selected theme on its staves: leave empty bars after it, or select the empty bars and write the theme's bars in the dialog";
        var constraint = { type: "theme", start: selected.start, end: selected.end };
        if (staves.length === 1)
            constraint.track = staves[0];
        var target = { start: fill.start, end: fill.end, firstStaff: selected.firstStaff, lastStaff: selected.lastStaff };
        return {
            score: score, regions: Scorehost.rangeRegions(target), places: places, constraints: [constraint],
            notes: ["developed the theme of " + barsLabel(bars, selected.start, selected.end) + " in " + barsLabel(bars, fill.start, fill.end)]
        };
    }

    function develop() {
        if (!settings.regions && !range()) {
            report(selectFirst);
            return;
        }
        Scorehost.edit(settings, ["temperature"], plan, report);
    }

    // ---- the dialog (plain QtQuick, so MuseScore 3 and 4 both draw it) -----

    Rectangle {
        anchors.fill: parent
        color: "#f4f4f4"

        Column {
            anchors.fill: parent
            anchors.margins: 12
            spacing: 8

            Text { text: "Develop the selected theme in the empty bars after it"; font.bold: true }
            Row { spacing: 8; Text { width: 90; text: "Server" } Rectangle { width: 270; height: 22; border.color: "#999"; TextInput { id: serverField; anchors.fill: parent; anchors.margins: 3; text: settings.server; onEditingFinished: settings.server = text } } }
            Row { spacing: 8; Text { width: 90; text: "Model" } Rectangle { width: 270; height: 22; border.color: "#999"; TextInput { id: modelField; anchors.fill: parent; anchors.margins: 3; text: settings.model; onEditingFinished: settings.model = text } } }
            Row { spacing: 8; Text { width: 90; text: "Temperature" } Rectangle { width: 80; height: 22; border.color: "#999"; TextInput { id: temperatureField; anchors.fill: parent; anchors.margins: 3; text: settings.temperature; onEditingFinished: settings.temperature = text } } }
            Row { spacing: 8; Text { width: 90; text: "Theme bars" } Rectangle { width: 80; height: 22; border.color: "#999"; TextInput { id: themeField; anchors.fill: parent; anchors.margins: 3; text: settings.theme; onEditingFinished: settings.theme = text } } Text { text: "blank: the selection, or found" ; color: "#666" } }
            Row {
                spacing: 8
                Rectangle {
                    width: 110; height: 28; radius: 4; color: "#2d6cdf"
                    Text { anchors.centerIn: parent; text: "Develop"; color: "white" }
                    MouseArea { anchors.fill: parent; onClicked: { Scorehost.takeFields(settings, fields()); develop(); } }
                }
                Rectangle {
                    width: 80; height: 28; radius: 4; color: "#888"
                    Text { anchors.centerIn: parent; text: "Close"; color: "white" }
                    MouseArea { anchors.fill: parent; onClicked: Scorehost.leave() }
                }
            }
            Text { id: statusText; width: parent.width; wrapMode: Text.Wrap; text: "" }
        }
    }
}
