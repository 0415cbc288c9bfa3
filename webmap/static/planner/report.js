/* The report's print button (the standalone report, written by `dialogkarta report`, has no script). */
document.getElementById("print-button").addEventListener("click", () => { window.print(); });
