package io.machinepool.internal;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.sql.DataSource;

/** The indexes of a table as the database's own catalogue ({@code getIndexInfo}) lists them. */
final class IndexCatalog {
  private IndexCatalog() {}

  /**
   * Each index of a table, by its lower-case name, with its columns in order, in lower case. The
   * table is looked up as written, in upper and in lower case, as databases fold names differently.
   *
   * @param dataSource the database
   * @param table the table's name
   * @return the indexes, empty when the table has none or does not exist
   * @throws SQLException when the catalogue cannot be read
   */
  static Map<String, List<String>> indexColumns(DataSource dataSource, String table)
      throws SQLException {
    Map<String, Map<Short, String>> found = new TreeMap<>();
    try (Connection c = dataSource.getConnection()) {
      DatabaseMetaData meta = c.getMetaData();
      Set<String> spellings =
          new TreeSet<>(
              List.of(table, table.toUpperCase(Locale.ROOT), table.toLowerCase(Locale.ROOT)));
      for (String candidate : spellings) {
        try (ResultSet rs = meta.getIndexInfo(c.getCatalog(), null, candidate, false, false)) {
          while (rs.next()) {
            String index = rs.getString("INDEX_NAME");
            String column = rs.getString("COLUMN_NAME");
            if (index != null && column != null) {
              found
                  .computeIfAbsent(index.toLowerCase(Locale.ROOT), k -> new TreeMap<>())
                  .put(rs.getShort("ORDINAL_POSITION"), column.toLowerCase(Locale.ROOT));
            }
          }
        }
      }
    }
    Map<String, List<String>> indexes = new TreeMap<>();
    found.forEach((index, columns) -> indexes.put(index, List.copyOf(columns.values())));
    return indexes;
  }
}
